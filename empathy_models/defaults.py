"""Constants that several layers read, in a module that imports nothing heavy (the command
line reads them before it imports the modelling stack)."""

#: Seed of the simulated study shipped in ``data/simulated_study`` (and of ``simulate``'s
#: default).
SHIPPED_SEED = 20261122
