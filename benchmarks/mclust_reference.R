# mclust 6 reference numbers for gaussmix's tests: for each data set (CSV with a header), every model and
# K = 1..9, with and without priorControl(): log-likelihood, df and BIC (mclust's sign: higher is better).
# Usage: Rscript benchmarks/mclust_reference.R out.json data1.csv [data2.csv ...]
#        Rscript benchmarks/mclust_reference.R --time data.csv   (seconds for the whole 14 x 9 BIC grid)
suppressPackageStartupMessages(library(mclust))
args <- commandArgs(trailingOnly = TRUE)
num <- function(x) if (is.null(x) || length(x) == 0 || !is.finite(x)) "null" else format(x, digits = 17)
models <- c("EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE", "VEE", "EVE", "VVE", "EEV", "VEV", "EVV", "VVV")

if (args[1] == "--time") {
  X <- as.matrix(read.csv(args[2]))
  seconds <- system.time(bic <- mclustBIC(X, G = 1:9, modelNames = models, verbose = FALSE))[["elapsed"]]
  best <- summary(bic, X)
  cat(sprintf('{"seconds": %s, "best_model": "%s", "best_k": %d, "best_bic": %s}\n', num(seconds),
              best$modelName, best$G, num(best$bic)))
  quit(save = "no")
}

out <- file(args[1], "w")
cat(sprintf('{"mclust_version": "%s", "data": {', as.character(packageVersion("mclust"))), file = out)
for (i in seq(2, length(args))) {
  X <- as.matrix(read.csv(args[i]))
  name <- sub("\\.csv$", "", basename(args[i]))
  cat(sprintf('%s"%s": {"n": %d, "d": %d, "fits": [', if (i > 2) ", " else "", name, nrow(X), ncol(X)), file = out)
  first <- TRUE
  for (use_prior in c(FALSE, TRUE)) for (m in models) for (k in 1:9) {
    fit <- tryCatch(suppressWarnings(Mclust(X, G = k, modelNames = m, verbose = FALSE,
                                            prior = if (use_prior) priorControl() else NULL)),
                    error = function(e) NULL)
    ok <- !is.null(fit)
    # mclust reports the log-likelihood of its last E-step; the one of the parameters it returns can differ
    at_params <- if (ok) sum(log(dens(data = X, modelName = fit$modelName, parameters = fit$parameters))) else NA
    # mclust stops at a relative change of 1e-5; run its own EM on from its answer to a change of 1e-11, so the
    # reference is the optimum mclust's start leads to (for a prior, the MAP fit's log-likelihood)
    converged <- NA
    if (ok) {
      more <- tryCatch(me(X, modelName = fit$modelName, z = fit$z, prior = if (use_prior) priorControl() else NULL,
                          control = emControl(tol = c(1e-11, 1e-11), itmax = c(1e5, 1e5)), warn = FALSE),
                       error = function(e) NULL)
      if (!is.null(more) && is.finite(more$loglik) && is.null(attr(more, "WARNING")))
        converged <- sum(log(dens(data = X, modelName = more$modelName, parameters = more$parameters)))
    }
    cat(sprintf(paste0('%s{"model": "%s", "k": %d, "prior": %s, "loglik": %s, "loglik_at_params": %s, ',
                       '"loglik_converged": %s, "df": %s, "bic": %s}'),
                if (first) "" else ", ", m, k, if (use_prior) "true" else "false",
                if (ok) num(fit$loglik) else "null", num(at_params), num(converged),
                num(nMclustParams(m, ncol(X), k)), if (ok) num(fit$bic) else "null"), file = out)
    first <- FALSE
  }
  bic <- mclustBIC(X, G = 1:9, modelNames = models, verbose = FALSE)
  best <- summary(bic, X)
  cat(sprintf('], "best": {"model": "%s", "k": %d, "bic": %s}}', best$modelName, best$G, num(best$bic)), file = out)
}
cat("}}\n", file = out)
close(out)
