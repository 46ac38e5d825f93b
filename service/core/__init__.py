"""What every capability shares: settings, the database, problem answers, messages in
Kazakh, Russian and English, the table base, and fault injection for crash tests.
"""
