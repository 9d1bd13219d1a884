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

/// Called about once a second while a transfer runs, data or not; non-zero aborts it.
typedef int (*CCurlShims_xferinfo_callback)(void *context, curl_off_t dltotal, curl_off_t dlnow,
                                            curl_off_t ultotal, curl_off_t ulnow);
CURLcode CCurlShims_setopt_xferinfo_function(CURL *handle, CCurlShims_xferinfo_callback callback);

/// curl_easy_getinfo is variadic too.
CURLcode CCurlShims_getinfo_long(CURL *handle, CURLINFO info, long *value);

#endif
