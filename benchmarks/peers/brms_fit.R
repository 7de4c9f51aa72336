#!/usr/bin/env Rscript
# brms (Stan) fit of the 3-level random-intercept variance partition.
# Usage: Rscript brms_fit.R DATA.csv OUT.json [CHAINS] [DRAWS] [WARMUP] [SEED] [MEASURE]
# Compilation is timed apart from sampling (brm(chains = 0) compiles; update() samples).
# Writes JSON: wall_s, compile_s, sample_s, min bulk/tail ESS and max R-hat over the
# reported parameters (Intercept, the three SDs and the three variance shares), divergences.
args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 2) stop("usage: brms_fit.R DATA.csv OUT.json [CHAINS] [DRAWS] [WARMUP] [SEED] [MEASURE]")
arg <- function(i, default) if (length(args) >= i) args[[i]] else default
csv <- args[[1]]
out <- args[[2]]
chains <- as.integer(arg(3, "2"))
draws <- as.integer(arg(4, "1000"))
warmup <- as.integer(arg(5, "1000"))
seed <- as.integer(arg(6, "1"))
measure <- arg(7, "alliance")
suppressPackageStartupMessages({
  library(brms)
  library(jsonlite)
})
have_posterior <- requireNamespace("posterior", quietly = TRUE)
t0 <- Sys.time()
df <- utils::read.csv(csv)
df$therapist <- factor(df$therapist)
df$client <- factor(df$client)
f <- stats::as.formula(paste(measure, "~ 1 + (1 | therapist) + (1 | client)"))
t1 <- Sys.time()
m0 <- brm(f, data = df, chains = 0, silent = 2, refresh = 0)
t2 <- Sys.time()
fit <- update(m0, recompile = FALSE, chains = chains, cores = min(chains, parallel::detectCores()),
              iter = draws + warmup, warmup = warmup, seed = seed, refresh = 0, silent = 2)
t3 <- Sys.time()

d <- as.data.frame(as_draws_df(fit))
chain <- d$.chain
pars <- list(
  Intercept = d$b_Intercept,
  sd_therapist = d$sd_therapist__Intercept,
  sd_client = d$sd_client__Intercept,
  sigma = d$sigma
)
total <- pars$sd_therapist^2 + pars$sd_client^2 + pars$sigma^2
pars$share_therapist <- pars$sd_therapist^2 / total
pars$share_client <- pars$sd_client^2 / total
pars$share_residual <- pars$sigma^2 / total
as_matrix <- function(x) sapply(split(x, chain), identity)  # draws x chains
if (have_posterior) {
  ess_bulk <- sapply(pars, function(x) posterior::ess_bulk(as_matrix(x)))
  ess_tail <- sapply(pars, function(x) posterior::ess_tail(as_matrix(x)))
  rhat <- sapply(pars, function(x) posterior::rhat(as_matrix(x)))
  ess_source <- "posterior"
} else {
  s <- rstan::summary(fit$fit)$summary
  ess_bulk <- s[c("b_Intercept", "sd_therapist__Intercept", "sd_client__Intercept", "sigma"), "n_eff"]
  ess_tail <- ess_bulk
  rhat <- s[c("b_Intercept", "sd_therapist__Intercept", "sd_client__Intercept", "sigma"), "Rhat"]
  ess_source <- "rstan n_eff (shares not included)"
}
sp <- rstan::get_sampler_params(fit$fit, inc_warmup = FALSE)
divergences <- sum(sapply(sp, function(x) sum(x[, "divergent__"])))
wall <- as.numeric(difftime(t3, t0, units = "secs"))
res <- list(
  peer = "brms",
  rows = nrow(df),
  chains = chains, draws = draws, warmup = warmup, seed = seed,
  read_s = as.numeric(difftime(t1, t0, units = "secs")),
  compile_s = as.numeric(difftime(t2, t1, units = "secs")),
  sample_s = as.numeric(difftime(t3, t2, units = "secs")),
  wall_s = wall,
  min_ess_bulk = min(ess_bulk), min_ess_tail = min(ess_tail), max_rhat = max(rhat),
  ess_bulk = as.list(ess_bulk), ess_tail = as.list(ess_tail),
  ess_source = ess_source,
  ess_per_s = min(ess_bulk) / wall,
  divergences = divergences,
  estimates = lapply(pars, mean),
  versions = list(R = R.version.string, brms = as.character(packageVersion("brms")),
                  rstan = as.character(packageVersion("rstan")))
)
writeLines(toJSON(res, auto_unbox = TRUE, digits = NA, pretty = TRUE), out)
