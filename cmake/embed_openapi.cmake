# Writes OUTPUT, a C++ source defining flaskcart::kOpenApiDocument from the JSON file INPUT.
file(READ "${INPUT}" CONTENT)
string(JSON IGNORED ERROR_VARIABLE JSON_ERROR GET "${CONTENT}" "openapi")
if(JSON_ERROR)
  message(FATAL_ERROR "openapi/openapi.json is not a valid OpenAPI document: ${JSON_ERROR}")
endif()
file(WRITE "${OUTPUT}.tmp"
  "#include \"openapi_document.hpp\"\n"
  "namespace flaskcart {\n"
  "const std::string_view kOpenApiDocument = R\"openapi_json(${CONTENT})openapi_json\";\n"
  "}\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
