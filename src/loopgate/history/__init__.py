"""The loop's history: the run reports under `.loop/runs/`, read back as values.

`readiness` judges a loop on this evidence; `report` shows it as trends. Nothing here writes
except `reviews` (a person's accept/reject of a draft), and nothing here prints.
"""
