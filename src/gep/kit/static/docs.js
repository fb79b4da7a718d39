// The API documentation page: Swagger UI (from the swagger-ui-bundle package) over /openapi.json.
"use strict";
window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true});
