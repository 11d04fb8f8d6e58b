#include "controller/event_loop.h"

#include <pthread.h>

namespace sluice::controller {

EventLoop::EventLoop(std::string name) : name_(std::move(name)) {
  thread_ = std::thread([this] { Run(); });
}

EventLoop::~EventLoop() { Stop(); }

bool EventLoop::Post(std::function<void()> event) {
  {
    MutexLock lock(&mu_);
    if (stopping_) return false;
    queue_.push_back(std::move(event));
  }
  wake_.Signal();
  return true;
}

void EventLoop::Stop() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  wake_.Signal();
  if (thread_.joinable()) thread_.join();
}

void EventLoop::Run() {
  pthread_setname_np(pthread_self(), name_.substr(0, 15).c_str());
  MutexLock lock(&mu_);
  while (true) {
    while (queue_.empty() && !stopping_) wake_.Wait(&mu_);
    if (queue_.empty()) return;  // Stopping, and everything queued has run.
    std::function<void()> event = std::move(queue_.front());
    queue_.pop_front();
    lock.Unlock();
    event();
    lock.Lock();
  }
}

}  // namespace sluice::controller
