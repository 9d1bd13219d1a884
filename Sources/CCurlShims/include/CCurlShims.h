#ifndef CCURLSHIMS_H
#define CCURLSHIMS_H

#include <curl/curl.h>

/// curl_easy_setopt is variadic, which Swift cannot call: one typed shim per argument kind.
CURLcode CCurlShims_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode CCurlShims_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode CCurlShims_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode CCurlShims_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value);
CURLcode CCurlShims_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value);

typedef size_t (*CCurlShims_write_callback)(char *data, size_t size, size_t count, void *context);
CURLcode CCurlShims_setopt_write_function(CURL *handle, CCurlShims_write_callback callback);

/// curl_easy_getinfo is variadic too.
CURLcode CCurlShims_getinfo_long(CURL *handle, CURLINFO info, long *value);

#endif
