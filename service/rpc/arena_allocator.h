// ArenaMessageAllocator: a grpc::MessageAllocator that puts each unary callback call's
// request and response on one protobuf Arena, freed in one go when gRPC releases the
// call's messages. A response of hundreds of records holds thousands of strings and map
// entries; before the arena, their malloc and free were about 16% of the server's CPU
// under Transform load and 13% under Ingest load (perf, bench/README.md).
//
//   class MyService : public v1::Foo::CallbackService {
//     MyService() { SetMessageAllocatorFor_Bar(&allocator_); }
//     ArenaMessageAllocator<v1::BarRequest, v1::BarResponse> allocator_;
//   };
//
// Ownership: the service owns the allocator and must keep it for as long as it serves;
// each MessageHolder owns its arena and deletes itself on Release(). Thread-safe: the
// allocator holds no state, and each holder belongs to one call.
#ifndef LAKEHOSE_SERVICE_RPC_ARENA_ALLOCATOR_H_
#define LAKEHOSE_SERVICE_RPC_ARENA_ALLOCATOR_H_

#include "google/protobuf/arena.h"
#include "grpcpp/support/message_allocator.h"

namespace lakehose {

template <typename Request, typename Response>
class ArenaMessageAllocator final : public grpc::MessageAllocator<Request, Response> {
 public:
  grpc::MessageHolder<Request, Response>* AllocateMessages() override { return new Holder; }

 private:
  class Holder final : public grpc::MessageHolder<Request, Response> {
   public:
    Holder() {
      this->set_request(google::protobuf::Arena::CreateMessage<Request>(&arena_));
      this->set_response(google::protobuf::Arena::CreateMessage<Response>(&arena_));
    }
    void Release() override { delete this; }

   private:
    google::protobuf::Arena arena_;
  };
};

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_RPC_ARENA_ALLOCATOR_H_
