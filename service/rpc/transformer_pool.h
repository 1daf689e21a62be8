// TransformerPool: reusable RecordTransformers per pipeline, so that parse buffers are
// allocated once rather than per request. A Lease hands one transformer to one thread
// and gives it back on destruction. Thread-safe.
#ifndef LAKEHOSE_SERVICE_RPC_TRANSFORMER_POOL_H_
#define LAKEHOSE_SERVICE_RPC_TRANSFORMER_POOL_H_

#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "core/config/pipeline.h"
#include "core/transform/transformer.h"

namespace lakehose {

class TransformerPool {
 public:
  class Lease {
   public:
    Lease(TransformerPool* pool, std::unique_ptr<RecordTransformer> t)
        : pool_(pool), t_(std::move(t)) {}
    Lease(Lease&&) = default;
    ~Lease() {
      if (t_) pool_->Release(std::move(t_));
    }
    RecordTransformer* operator->() { return t_.get(); }
    RecordTransformer& operator*() { return *t_; }

   private:
    TransformerPool* pool_;
    std::unique_ptr<RecordTransformer> t_;
  };

  // `spec` must outlive the pool.
  Lease Acquire(const PipelineSpec* spec);

 private:
  void Release(std::unique_ptr<RecordTransformer> t);

  absl::Mutex mu_;
  absl::flat_hash_map<const PipelineSpec*, std::vector<std::unique_ptr<RecordTransformer>>> free_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace lakehose

#endif  // LAKEHOSE_SERVICE_RPC_TRANSFORMER_POOL_H_
