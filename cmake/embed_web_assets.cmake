# Writes OUTPUT, a C++ source defining flaskcart::web::embedded_files() and
# embedded_asset_version() from the browser files, so the binary serves them with no files at
# run time. ASSET_FILES and PAGE_FILES are '|'-separated paths. Assets are served under
# /assets/<version>/<file name>, where <version> is a digest of every asset's content: a changed
# file gets a new URL, so assets can be cached for a year. In the pages, @ASSETS@ becomes that
# prefix; pages themselves are revalidated (ETag).
cmake_policy(VERSION 3.25)
string(REPLACE "|" ";" ASSET_FILES "${ASSET_FILES}")
string(REPLACE "|" ";" PAGE_FILES "${PAGE_FILES}")
set(DELIMITER "fc_asset")

set(ALL_DIGESTS "")
foreach(FILE IN LISTS ASSET_FILES)
  if(NOT EXISTS "${FILE}")
    message(FATAL_ERROR "${FILE} is missing; run scripts/setup (it installs web/package-lock.json)")
  endif()
  file(SHA256 "${FILE}" DIGEST)
  string(APPEND ALL_DIGESTS "${DIGEST}")
endforeach()
string(SHA256 VERSION "${ALL_DIGESTS}")
string(SUBSTRING "${VERSION}" 0 16 VERSION)

set(BODY "")
set(TABLE "")
set(INDEX 0)
foreach(FILE IN LISTS PAGE_FILES ASSET_FILES)
  file(READ "${FILE}" CONTENT)
  get_filename_component(NAME "${FILE}" NAME)
  set(IS_PAGE false)
  if(FILE IN_LIST PAGE_FILES)
    set(IS_PAGE true)
    string(REPLACE "@ASSETS@" "/assets/${VERSION}" CONTENT "${CONTENT}")
  endif()
  string(FIND "${CONTENT}" ")${DELIMITER}\"" CLASH)
  if(NOT CLASH EQUAL -1)
    message(FATAL_ERROR "${FILE} contains the raw-string delimiter )${DELIMITER}\"")
  endif()
  string(SHA256 DIGEST "${CONTENT}")
  string(SUBSTRING "${DIGEST}" 0 20 DIGEST)
  string(APPEND BODY "const char kFile${INDEX}[] = R\"${DELIMITER}(${CONTENT})${DELIMITER}\";\n")
  string(APPEND TABLE
    "    {\"${NAME}\", ${IS_PAGE}, \"\\\"${DIGEST}\\\"\", {kFile${INDEX}, sizeof(kFile${INDEX}) - 1}},\n")
  math(EXPR INDEX "${INDEX} + 1")
endforeach()

file(WRITE "${OUTPUT}.tmp"
  "#include \"web/embedded_files.hpp\"\n"
  "namespace flaskcart::web {\n"
  "namespace {\n"
  "${BODY}"
  "const EmbeddedFile kFiles[] = {\n${TABLE}};\n"
  "}  // namespace\n"
  "std::span<const EmbeddedFile> embedded_files() { return kFiles; }\n"
  "std::string_view embedded_asset_version() { return \"${VERSION}\"; }\n"
  "}  // namespace flaskcart::web\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
