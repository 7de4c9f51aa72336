#!/usr/bin/env Rscript
# lme4 REML point estimate of the crossed rating model (targets x raters).
# Usage: Rscript lme4_crossed.R DATA.csv OUT.json [MEASURE]
# Writes JSON: wall_s (read + fit), read_s, fit_s, estimates, versions.
args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 2) stop("usage: lme4_crossed.R DATA.csv OUT.json [MEASURE]")
csv <- args[[1]]
out <- args[[2]]
measure <- if (length(args) >= 3) args[[3]] else "rating"
suppressPackageStartupMessages({
  library(lme4)
  library(jsonlite)
})
t0 <- Sys.time()
df <- utils::read.csv(csv)
df$target <- factor(df$target)
df$rater <- factor(df$rater)
t1 <- Sys.time()
f <- stats::as.formula(paste(measure, "~ 1 + (1 | target) + (1 | rater)"))
m <- lmer(f, data = df, REML = TRUE)
vc <- as.data.frame(VarCorr(m))
sd_of <- function(g) vc$sdcor[vc$grp == g][1]
t2 <- Sys.time()
sd_t <- sd_of("target"); sd_r <- sd_of("rater"); sigma <- sd_of("Residual")
res <- list(
  peer = "lme4",
  rows = nrow(df),
  read_s = as.numeric(difftime(t1, t0, units = "secs")),
  fit_s = as.numeric(difftime(t2, t1, units = "secs")),
  wall_s = as.numeric(difftime(t2, t0, units = "secs")),
  converged = is.null(m@optinfo$conv$lme4$messages),
  estimates = list(
    Intercept = unname(fixef(m)[1]),
    sd_target = sd_t, sd_rater = sd_r, sigma = sigma,
    icc_agreement = sd_t^2 / (sd_t^2 + sd_r^2 + sigma^2),
    icc_consistency = sd_t^2 / (sd_t^2 + sigma^2)
  ),
  versions = list(R = R.version.string, lme4 = as.character(packageVersion("lme4")))
)
writeLines(toJSON(res, auto_unbox = TRUE, digits = NA, pretty = TRUE), out)
