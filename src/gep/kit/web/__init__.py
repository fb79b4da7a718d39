"""The web kit: request dependencies, the error table, security middleware, page rendering, fonts."""
