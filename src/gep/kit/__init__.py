"""The platform toolkit: what every domain stands on, below all of them.

The domain contract (`domain`), the caller (`principal`), translations (`i18n`), the audit log (`audit`),
organisation scoping (`scoping`), scheduled tasks, timers and jobs with leases (`tasks`), domain events through an
outbox (`events`), notifications (`notify`), structured logs (`logs`) and the web kit (`web`: request
dependencies, the error table, security middleware, page rendering). Nothing here imports a domain.
"""
