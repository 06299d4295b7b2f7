"""Entry points: the server-rendered pages (learner, coach, staff, monitoring). They call ``api`` only."""
