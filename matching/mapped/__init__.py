"""Resolve any files of one entity type, described by a mapping file: `e360 resolve`.

`mapping` holds the typed mapping file, `plan` the matching settings a mapping allows (the
entity's defaults, cut to the mapped attributes, plus comparisons of extra columns) and
`resolver` the run itself: read, standardise, train, score, cluster, write.
"""
