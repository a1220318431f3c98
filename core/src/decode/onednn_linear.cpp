#include "decode/onednn_linear.hpp"

#include "engines/cpu/onednn_module.hpp"
#include "nmscope/error.hpp"

namespace nmscope {

namespace {

constexpr const char* kEngine = "cpu/onednn-bf16-dense";

const engines::OneDnnModule* loaded_module() {
  std::string reason;
  const engines::OneDnnModule* module = engines::onednn_module(&reason);
  if (!module) throw Error(kEngine, reason);
  return module;
}

}  // namespace

OneDnnLinear::OneDnnLinear(std::shared_ptr<const MatrixF> weights)
    : weights_(std::move(weights)), module_(loaded_module()) {}

OneDnnLinear::~OneDnnLinear() {
  for (auto& [batch, product] : products_) module_->destroy(product);
}

nmscope_onednn_matmul* OneDnnLinear::product(int64_t batch) const {
  const std::lock_guard lock(mutex_);
  if (const auto found = products_.find(batch); found != products_.end()) return found->second;
  char error[512] = "";
  nmscope_onednn_matmul* made =
      module_->create(batch, weights_->cols(), weights_->rows(), weights_->data(), error, sizeof(error));
  if (!made) throw Error(kEngine, error);
  products_.emplace(batch, made);
  return made;
}

void OneDnnLinear::multiply(const MatrixF& x, MatrixF& y, int threads) const {
  y.resize(x.rows(), weights_->rows());
  char error[512] = "";
  if (!module_->run(product(x.rows()), x.data(), y.data(), 0, threads, error, sizeof(error)))
    throw Error(kEngine, error);
}

std::string OneDnnLinear::implementation() const {
  const std::lock_guard lock(mutex_);
  const std::string isa = module_->isa();
  if (products_.empty()) return isa;
  return std::string(module_->implementation(products_.begin()->second)) + ", " + isa;
}

}  // namespace nmscope
