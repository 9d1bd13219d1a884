// THREADED must be defined before zookeeper.h, or the synchronous API
// (zoo_get, ...) and the multi-threaded declarations are missing.
#define THREADED 1
#include <zookeeper/zookeeper.h>
