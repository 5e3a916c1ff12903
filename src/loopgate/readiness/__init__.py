"""`loopgate readiness`: may this loop run in a given mode, on the evidence?

Three kinds of evidence, each a module: the artifacts (`artifacts`), the repository as it is now
(`repository`), and the loop's history of runs and reviews (`evidence`). `rollout` holds the
thresholds the spec sets, `audit` weighs the criteria into a verdict per mode and decides a
rollback. Every criterion is a value with its reason and what to do next; nothing here prints.
"""
