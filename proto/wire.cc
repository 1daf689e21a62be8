#include "proto/wire.h"

namespace lakehose {

v1::RecordResult::Result ToWire(Verdict v) {
  switch (v) {
    case Verdict::kOk:
      return v1::RecordResult::OK;
    case Verdict::kDropped:
      return v1::RecordResult::DROPPED;
    case Verdict::kProcessingFailed:
      return v1::RecordResult::PROCESSING_FAILED;
    case Verdict::kUnspecified:
      break;
  }
  return v1::RecordResult::RESULT_UNSPECIFIED;
}

v1::RecordResult::Operation ToWire(Operation o) {
  switch (o) {
    case Operation::kInsert:
      return v1::RecordResult::INSERT;
    case Operation::kUpdate:
      return v1::RecordResult::UPDATE;
    case Operation::kDelete:
      return v1::RecordResult::DELETE;
    case Operation::kUnspecified:
      break;
  }
  return v1::RecordResult::OPERATION_UNSPECIFIED;
}

Verdict FromWire(v1::RecordResult::Result r) {
  switch (r) {
    case v1::RecordResult::OK:
      return Verdict::kOk;
    case v1::RecordResult::DROPPED:
      return Verdict::kDropped;
    case v1::RecordResult::PROCESSING_FAILED:
      return Verdict::kProcessingFailed;
    default:
      return Verdict::kUnspecified;
  }
}

Operation FromWire(v1::RecordResult::Operation o) {
  switch (o) {
    case v1::RecordResult::INSERT:
      return Operation::kInsert;
    case v1::RecordResult::UPDATE:
      return Operation::kUpdate;
    case v1::RecordResult::DELETE:
      return Operation::kDelete;
    default:
      return Operation::kUnspecified;
  }
}

}  // namespace lakehose
