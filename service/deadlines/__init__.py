"""Deadlines in working days: the act's rules on which clock a document runs on (`rules`)
and the working-day calendar of Kazakhstan (`workdays`).
"""
