/*
 * Netlink writes off the main thread: nlWriteOpen() makes a NETLINK_ROUTE socket (in the network namespace
 * of the calling thread: a socket keeps the namespace it was made in), and nlWriteChunks(fd, bytes, length,
 * firstSeq, perChunk) sends the netlink messages in bytes[0..length), perChunk per sendmsg, on libuv's
 * threadpool, reading each chunk's answers before the next. It numbers the messages firstSeq, firstSeq+1,
 * ... and resolves with an Int32Array of (message index, errno) pairs, one per message the kernel refused.
 *
 * Why: rtnetlink does the work of a request (a route insert, say) inside the sender's sendmsg. On the main
 * thread a million-route table would hold the event loop for the kernel's whole share (about 2/3 of the
 * load), so BGP parsing and the kernel's inserts could never overlap.
 *
 * Each chunk's last message carries NLM_F_ACK, the others only report failures; the kernel handles one
 * sendmsg's messages in order, so when the last one's answer arrives, every message of the chunk is
 * answered. Only one nlWriteChunks may run per socket at a time (the caller queues them).
 */
#include "napi_util.h"
#include <errno.h>
#include <linux/netlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

typedef struct {
  int fd;
  uint8_t *bytes;
  size_t length;
  uint32_t first_seq, per_chunk;
  int32_t *failures; /* (message index, errno) pairs */
  uint32_t nfailures;
  napi_ref bytes_ref;
  napi_deferred deferred;
  napi_async_work work;
} write_chunks;

/* A stuck kernel answer must not hold a threadpool thread for ever: the chunk then fails with EAGAIN. */
#define ANSWER_TIMEOUT_S 30

static napi_value js_nl_write_open(napi_env env, napi_callback_info info) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return throw_errno(env, errno, "socket", NULL);
  int one = 1;
  /* an error answer would otherwise carry the whole request back */
  setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  /* a chunk's refusals queue up until its last answer: room for a whole chunk of them (each ~1 KiB of truesize) */
  int rcvbuf = 4 << 20;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  struct timeval timeout = {.tv_sec = ANSWER_TIMEOUT_S};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  return make_int(env, fd);
}

static void fail(write_chunks *w, uint32_t seq, int err) {
  w->failures[2 * w->nfailures] = (int32_t)(seq - w->first_seq);
  w->failures[2 * w->nfailures + 1] = err;
  w->nfailures++;
}

/* Every message of the chunk that has no answer yet fails with `err` (the chunk's fate is unknown). */
static void fail_unanswered(write_chunks *w, const uint8_t *chunk, size_t len, uint32_t answered_from, int err) {
  for (const struct nlmsghdr *h = (const struct nlmsghdr *)chunk; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
    bool answered = false;
    for (uint32_t i = answered_from; i < w->nfailures && !answered; i++) answered = (uint32_t)w->failures[2 * i] == h->nlmsg_seq - w->first_seq;
    if (!answered) fail(w, h->nlmsg_seq, err);
  }
}

static void send_chunk(write_chunks *w, const uint8_t *chunk, size_t len, uint8_t *answer, size_t answer_size) {
  uint32_t first = ((const struct nlmsghdr *)chunk)->nlmsg_seq, last = first, count = 0;
  size_t left = len;
  for (const struct nlmsghdr *h = (const struct nlmsghdr *)chunk; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
    last = h->nlmsg_seq;
    count++;
  }
  if (count == 0) return;
  uint32_t failures_before = w->nfailures;
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  ssize_t n;
  do n = sendto(w->fd, chunk, len, 0, (struct sockaddr *)&kernel, sizeof kernel); while (n < 0 && errno == EINTR);
  if (n < 0) {
    fail_unanswered(w, chunk, len, failures_before, errno);
    return;
  }
  for (;;) {
    do n = recv(w->fd, answer, answer_size, 0); while (n < 0 && errno == EINTR);
    if (n < 0) {
      /* ENOBUFS (answers lost) or the timeout: whatever is unanswered is unknown, so reported failed */
      fail_unanswered(w, chunk, len, failures_before, errno);
      return;
    }
    size_t got = (size_t)n;
    for (struct nlmsghdr *h = (struct nlmsghdr *)answer; NLMSG_OK(h, got); h = NLMSG_NEXT(h, got)) {
      /* answers to an earlier, abandoned chunk carry sequence numbers outside this one */
      if (h->nlmsg_type != NLMSG_ERROR || h->nlmsg_seq - first >= count) continue;
      int err = -((struct nlmsgerr *)NLMSG_DATA(h))->error;
      if (err) fail(w, h->nlmsg_seq, err);
      if (h->nlmsg_seq == last) return;
    }
  }
}

/* Numbers the messages from first_seq and asks for an ACK on each chunk's last: returns the chunk's length. */
static size_t stamp_chunk(write_chunks *w, uint8_t *chunk, size_t left, uint32_t *seq) {
  struct nlmsghdr *last = NULL;
  size_t len = 0;
  uint32_t n = 0;
  for (struct nlmsghdr *h = (struct nlmsghdr *)chunk; n < w->per_chunk && NLMSG_OK(h, left); h = NLMSG_NEXT(h, left), n++) {
    h->nlmsg_seq = (*seq)++;
    h->nlmsg_flags &= ~NLM_F_ACK;
    h->nlmsg_flags |= NLM_F_REQUEST;
    last = h;
    len = (size_t)((uint8_t *)h - chunk) + NLMSG_ALIGN(h->nlmsg_len);
  }
  if (last) last->nlmsg_flags |= NLM_F_ACK;
  return len;
}

static void execute(napi_env env, void *data) {
  write_chunks *w = data;
  size_t answer_size = 64 * 1024;
  uint8_t *answer = malloc(answer_size);
  uint32_t seq = w->first_seq;
  for (size_t from = 0; from < w->length;) {
    size_t len = stamp_chunk(w, w->bytes + from, w->length - from, &seq);
    if (len == 0) break; /* a malformed tail: the caller's encoder is wrong, and its messages stay unsent */
    if (answer) send_chunk(w, w->bytes + from, len, answer, answer_size);
    else fail_unanswered(w, w->bytes + from, len, w->nfailures, ENOMEM);
    from += len;
  }
  free(answer);
}

static void complete(napi_env env, napi_status status, void *data) {
  write_chunks *w = data;
  napi_value v;
  if (status == napi_ok) {
    void *out;
    napi_value ab;
    size_t bytes = (size_t)w->nfailures * 2 * sizeof(int32_t);
    napi_create_arraybuffer(env, bytes, &out, &ab);
    if (bytes) memcpy(out, w->failures, bytes);
    napi_create_typedarray(env, napi_int32_array, (size_t)w->nfailures * 2, ab, 0, &v);
    napi_resolve_deferred(env, w->deferred, v);
  } else {
    napi_value msg;
    napi_create_string_utf8(env, "nlWriteChunks: the work was cancelled", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &v);
    napi_reject_deferred(env, w->deferred, v);
  }
  napi_delete_reference(env, w->bytes_ref);
  napi_delete_async_work(env, w->work);
  free(w->failures);
  free(w);
}

static napi_value js_nl_write_chunks(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  uint32_t length, first_seq, per_chunk;
  void *bytes = NULL;
  size_t size = 0;
  bool is_buffer = false;
  if (argc == 5) napi_is_buffer(env, argv[1], &is_buffer);
  if (argc < 5 || !arg_int32(env, argv[0], &fd) || !is_buffer || napi_get_buffer_info(env, argv[1], &bytes, &size) != napi_ok ||
      !arg_uint32(env, argv[2], &length) || !arg_uint32(env, argv[3], &first_seq) || !arg_uint32(env, argv[4], &per_chunk) ||
      length > size || per_chunk == 0) {
    napi_throw_type_error(env, NULL, "nlWriteChunks(fd, bytes, length, firstSeq, perChunk): a socket, a Buffer of messages, their length, a sequence number and messages per sendmsg (1 or more)");
    return NULL;
  }
  uint32_t messages = 0;
  size_t left = length;
  for (const struct nlmsghdr *h = (const struct nlmsghdr *)bytes; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) messages++;
  write_chunks *w = calloc(1, sizeof *w);
  int32_t *failures = malloc(((size_t)messages + 1) * 2 * sizeof(int32_t));
  if (!w || !failures) {
    free(w);
    free(failures);
    napi_throw_error(env, NULL, "nlWriteChunks: out of memory");
    return NULL;
  }
  *w = (write_chunks){.fd = fd, .bytes = bytes, .length = length, .first_seq = first_seq, .per_chunk = per_chunk, .failures = failures};
  /* the buffer stays alive (and in place) while the threadpool stamps and sends it */
  napi_create_reference(env, argv[1], 1, &w->bytes_ref);
  napi_value promise;
  NAPI_CALL(env, napi_create_promise(env, &w->deferred, &promise));
  if (!queue_promise_work(env, "nlWriteChunks", execute, complete, w, &w->work, w->deferred)) {
    napi_delete_reference(env, w->bytes_ref);
    free(failures);
    free(w);
  }
  return promise;
}

void berth_init_nlwrite(napi_env env, napi_value exports) {
  export_fn(env, exports, "nlWriteOpen", js_nl_write_open);
  export_fn(env, exports, "nlWriteChunks", js_nl_write_chunks);
}
