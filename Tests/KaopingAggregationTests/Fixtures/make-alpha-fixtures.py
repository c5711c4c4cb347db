"""Reference values of Krippendorff's alpha (interval) from the independent `krippendorff`
package on PyPI, for AlphaTests. Regenerate with:

    python3 -m pip install krippendorff==0.9.0 numpy
    python3 Tests/KaopingAggregationTests/Fixtures/make-alpha-fixtures.py > Tests/KaopingAggregationTests/Fixtures/alpha.json

Each case lists units (subjects) with the scores given to them; raters are anonymous, so a
unit's scores fill the rater rows in order and the rest of the column is missing.
"""
import json
import random

import krippendorff
import numpy as np


def alpha(units):
    raters = max(len(unit) for unit in units)
    data = np.full((raters, len(units)), np.nan)
    for column, unit in enumerate(units):
        for row, value in enumerate(unit):
            data[row, column] = value
    return krippendorff.alpha(reliability_data=data, level_of_measurement="interval")


random.seed(20261129)
cases = [
    # Krippendorff's own example (Content Analysis, 2004, p. 231), interval metric: 0.849.
    {"name": "krippendorff-2004", "units": [[1, 1, 1], [2, 2, 3, 2], [3, 3, 3, 3], [3, 3, 3, 3], [2, 2, 2, 2],
                                            [1, 2, 3, 4], [4, 4, 4, 4], [1, 1, 2, 1], [2, 2, 2, 2], [5, 5, 5],
                                            [1, 1], [3]]},
    {"name": "agreeing-branches", "units": [[90, 92, 88, 91], [60, 62, 58], [75, 77, 74, 76, 75]]},
    {"name": "no-agreement", "units": [[100, 0, 50, 75], [0, 100, 25, 50], [50, 50, 100, 0]]},
]
for size in (5, 20, 60):
    units = []
    for _ in range(size):
        level = random.uniform(55, 95)
        units.append([round(min(100, max(0, random.gauss(level, 8))), 2) for _ in range(random.randint(1, 12))])
    cases.append({"name": f"random-{size}-branches", "units": units})
for case in cases:
    case["alpha"] = alpha(case["units"])
print(json.dumps(cases, ensure_ascii=False, indent=1))
