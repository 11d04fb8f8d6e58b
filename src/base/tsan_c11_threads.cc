// ThreadSanitizer builds only (linked into every executable of the tsan
// flavour, see src/base/CMakeLists.txt).
//
// librdkafka, which the tests and the `sluice` tool run in-process, makes its
// threads, mutexes and condition variables with C11 <threads.h>. glibc
// implements those without going through the pthread entry points, and the
// TSan runtime of Debian 12's clang 14 intercepts only the latter: a thread
// made by thrd_create is unknown to it and crashes in its allocator at the
// first malloc, and synchronization through mtx_lock/cnd_wait is invisible,
// so it would report races between our code and our own librdkafka callbacks
// that the library's locks in fact order. Defined in the executable, these
// functions take precedence over glibc's for librdkafka too (symbol
// interposition) and forward to the pthread functions the runtime sees.
// glibc's mtx_t, cnd_t and thrd_t are pthread_mutex_t, pthread_cond_t and
// pthread_t in layout (checked below), as its own implementation relies on.
#include <pthread.h>
#include <threads.h>

#include <cerrno>
#include <cstdint>
#include <ctime>

static_assert(sizeof(mtx_t) == sizeof(pthread_mutex_t));
static_assert(sizeof(cnd_t) == sizeof(pthread_cond_t));
static_assert(sizeof(thrd_t) == sizeof(pthread_t));

namespace {

struct Start {
  thrd_start_t fn;
  void* arg;
};

void* Trampoline(void* p) {
  const Start start = *static_cast<Start*>(p);
  delete static_cast<Start*>(p);
  return reinterpret_cast<void*>(static_cast<intptr_t>(start.fn(start.arg)));
}

int FromErrno(int e) {
  switch (e) {
    case 0: return thrd_success;
    case ENOMEM: return thrd_nomem;
    case EBUSY: return thrd_busy;
    case ETIMEDOUT: return thrd_timedout;
    default: return thrd_error;
  }
}

pthread_mutex_t* AsPthread(mtx_t* m) { return reinterpret_cast<pthread_mutex_t*>(m); }
pthread_cond_t* AsPthread(cnd_t* c) { return reinterpret_cast<pthread_cond_t*>(c); }

}  // namespace

extern "C" {

int thrd_create(thrd_t* thr, thrd_start_t fn, void* arg) {
  auto* start = new Start{fn, arg};
  pthread_t t;
  const int e = pthread_create(&t, nullptr, Trampoline, start);
  if (e != 0) {
    delete start;
    return FromErrno(e);
  }
  *thr = t;
  return thrd_success;
}

int thrd_join(thrd_t thr, int* res) {
  void* value = nullptr;
  const int e = pthread_join(thr, &value);
  if (e == 0 && res != nullptr) *res = static_cast<int>(reinterpret_cast<intptr_t>(value));
  return FromErrno(e);
}

int thrd_detach(thrd_t thr) { return FromErrno(pthread_detach(thr)); }

void thrd_exit(int res) { pthread_exit(reinterpret_cast<void*>(static_cast<intptr_t>(res))); }

int mtx_init(mtx_t* m, int type) {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  if ((type & mtx_recursive) != 0) pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
  const int e = pthread_mutex_init(AsPthread(m), &attr);
  pthread_mutexattr_destroy(&attr);
  return FromErrno(e);
}

int mtx_lock(mtx_t* m) { return FromErrno(pthread_mutex_lock(AsPthread(m))); }
int mtx_trylock(mtx_t* m) { return FromErrno(pthread_mutex_trylock(AsPthread(m))); }
int mtx_timedlock(mtx_t* __restrict m, const struct timespec* __restrict deadline) {
  return FromErrno(pthread_mutex_timedlock(AsPthread(m), deadline));
}
int mtx_unlock(mtx_t* m) { return FromErrno(pthread_mutex_unlock(AsPthread(m))); }
void mtx_destroy(mtx_t* m) { pthread_mutex_destroy(AsPthread(m)); }

int cnd_init(cnd_t* c) { return FromErrno(pthread_cond_init(AsPthread(c), nullptr)); }
int cnd_signal(cnd_t* c) { return FromErrno(pthread_cond_signal(AsPthread(c))); }
int cnd_broadcast(cnd_t* c) { return FromErrno(pthread_cond_broadcast(AsPthread(c))); }
int cnd_wait(cnd_t* c, mtx_t* m) { return FromErrno(pthread_cond_wait(AsPthread(c), AsPthread(m))); }
int cnd_timedwait(cnd_t* __restrict c, mtx_t* __restrict m,
                  const struct timespec* __restrict deadline) {
  return FromErrno(pthread_cond_timedwait(AsPthread(c), AsPthread(m), deadline));
}
void cnd_destroy(cnd_t* c) { pthread_cond_destroy(AsPthread(c)); }

}  // extern "C"
