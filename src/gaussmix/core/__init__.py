"""The pure math of Gaussian mixtures: parameters, statistics, densities, E-step, M-step, initialisation, EM."""
