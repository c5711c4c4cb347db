"""Reference values for IntegrationTests from SciPy (an independent implementation):
Spearman's rho with average ranks for ties, Pearson's r, their 95% intervals by Fisher's z
(standard error 1/sqrt(n-3)), average ranks and competition ranks. Regenerate with:

    python3 -m pip install scipy==1.17.1 numpy
    python3 Tests/KaopingAggregationTests/Fixtures/make-correlation-fixtures.py > Tests/KaopingAggregationTests/Fixtures/correlation.json
"""
import json
import math
import random

import numpy as np
from scipy import stats

Z975 = stats.norm.ppf(0.975)


def interval(r, n):
    if n <= 3:
        return None, None
    if abs(r) >= 1:
        return r, r
    z = math.atanh(r)
    margin = Z975 / math.sqrt(n - 3)
    return math.tanh(z - margin), math.tanh(z + margin)


def case(name, business, party):
    rho = stats.spearmanr(business, party).statistic
    r = stats.pearsonr(business, party).statistic
    rho_low, rho_high = interval(rho, len(business))
    r_low, r_high = interval(r, len(business))
    return {
        "name": name,
        "business": business,
        "party": party,
        "spearman": rho, "spearmanLow": rho_low, "spearmanHigh": rho_high,
        "pearson": r, "pearsonLow": r_low, "pearsonHigh": r_high,
        "businessAverageRanks": stats.rankdata(business, method="average").tolist(),
        "partyCompetitionRanks": [int(x) for x in stats.rankdata([-p for p in party], method="min")],
    }


random.seed(20261130)
cases = [
    case("five-branches", [88.0, 92.5, 75.0, 81.0, 69.5], [90.1, 85.3, 78.0, 88.4, 70.2]),
    case("ties-in-both", [80.0, 80.0, 90.0, 70.0, 70.0, 85.0, 60.0], [75.0, 82.0, 82.0, 60.0, 75.0, 90.0, 60.0]),
    case("opposite-orders", [60.0, 70.0, 80.0, 90.0, 95.0], [99.0, 90.0, 85.0, 72.0, 61.0]),
]
for size in (12, 40, 200):
    business = [round(random.uniform(55, 98), 1) for _ in range(size)]
    party = [round(min(100, max(0, 0.5 * b + random.gauss(40, 8))), 1) for b in business]
    cases.append(case(f"random-{size}-branches", business, party))
print(json.dumps(cases, indent=1))
