// Swagger UI for /openapi.json (assets from the swagger-ui-bundle package, served locally).
window.addEventListener("load", function () {
  "use strict";
  window.SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
});
