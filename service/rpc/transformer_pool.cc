#include "service/rpc/transformer_pool.h"

namespace lakehose {

TransformerPool::Lease TransformerPool::Acquire(const PipelineSpec* spec) {
  {
    absl::MutexLock lock(&mu_);
    auto it = free_.find(spec);
    if (it != free_.end() && !it->second.empty()) {
      std::unique_ptr<RecordTransformer> t = std::move(it->second.back());
      it->second.pop_back();
      return Lease(this, std::move(t));
    }
  }
  return Lease(this, std::make_unique<RecordTransformer>(*spec));
}

void TransformerPool::Release(std::unique_ptr<RecordTransformer> t) {
  absl::MutexLock lock(&mu_);
  free_[&t->spec()].push_back(std::move(t));
}

}  // namespace lakehose
