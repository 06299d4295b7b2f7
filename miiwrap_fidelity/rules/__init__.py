"""The rules, with no database: every certification rule (``competency``), the values the api hands out
(``data``), the errors it raises, rating scales, input checks, drift and rater agreement."""
