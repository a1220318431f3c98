#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <tuple>
#include <utility>

#include "nmscope/engine_family.hpp"
#include "nmscope/engine_registry.hpp"
#include "nmscope/host_info.hpp"
#include "nmscope/interleaved_speedup.hpp"
#include "nmscope/metrics.hpp"
#include "nmscope/model.hpp"
#include "nmscope/packed_matrix.hpp"
#include "nmscope/readers.hpp"
#include "nmscope/results_store.hpp"
#include "nmscope/study.hpp"
#include "nmscope/synthetic.hpp"
#include "nmscope/timing.hpp"
#include "nmscope/weight_source.hpp"
#include "quant/fp16_range.hpp"
#include "study/slice_accuracy.hpp"

namespace nmscope {

namespace {

bool all_finite(const MatrixF& matrix) {
  return tbb::parallel_reduce(
      tbb::blocked_range<int64_t>(0, matrix.size(), 1 << 16), true,
      [&](const auto& range, bool finite) {
        for (int64_t index = range.begin(); finite && index != range.end(); ++index)
          finite = std::isfinite(matrix.data()[index]);
        return finite;
      },
      [](bool left, bool right) { return left && right; });
}

struct SelectedTensor {
  const WeightSource* source;
  std::string name;
};

// Everything computed once per tensor and shared by its configurations.
struct TensorContext {
  const WeightSource* source;
  std::string source_identity;  // the source as stored and keyed: its canonical path (weight_source.hpp)
  std::string name;
  std::string hash;
  MatrixF weights;
  WeightRange range;  // of the weights as loaded: what fp16 must hold (quant/fp16_range.hpp)
  MatrixF eval_activations;
  std::unique_ptr<OutputReference> reference;
  VectorF input_norms;
};

// A row the store refused (disk full, read-only, I/O error). Not an Error, so the per-tensor and per-configuration
// handlers that skip a bad tensor let it through: no later row could be stored either.
struct StoreFailure {
  Error error;
};

class StudyRun {
 public:
  StudyRun(const StudySpec& spec, ResultsStore* store, const StudyObserver& observer, const std::atomic<bool>* cancel)
      : spec_(spec), store_(store), observer_(observer), cancel_(cancel) {
    summary_.study_id = spec.study_id.empty() ? new_study_id() : spec.study_id;
    host_ = host_description();
    build_ = build_description();
  }

  StudySummary run() {
    registry_ = EngineRegistry::with_options(spec_.engine_options);
    engines_ = registry_.select(spec_.engines);
    report_unmeasured_configurations();
    if (!spec_.activations_path.empty()) user_activations_ = read_npy_matrix(spec_.activations_path);
    const std::vector<SelectedTensor> tensors = select_tensors();
    progress_.total = int64_t(tensors.size()) * jobs_per_tensor();
    try {
      for (const auto& tensor : tensors) measure_tensor(tensor);
    } catch (const Cancelled&) {
      summary_.cancelled = true;
    } catch (const StoreFailure& failure) {
      throw failure.error;
    }
    progress_.current.clear();
    if (!summary_.cancelled) progress_.done = progress_.total;
    if (observer_.progress) observer_.progress(progress_);
    return summary_;
  }

 private:
  void check_cancel() const {
    if (cancel_ && cancel_->load(std::memory_order_relaxed)) throw Cancelled();
  }

  void skip(const Error& error) {
    ++summary_.skipped;
    if (observer_.skipped) observer_.skipped(error);
  }

  std::vector<SelectedTensor> select_tensors() {
    for (const auto& location : spec_.sources) {
      try {
        sources_.push_back(open_weight_source(location));
      } catch (const Error& error) {
        skip(error);
      }
    }
    std::vector<SelectedTensor> selected;
    if (spec_.tensors.empty()) {
      for (const auto& source : sources_) {
        const size_t before = selected.size();
        for (const auto& info : source->tensors())
          if (info.is_matrix) selected.push_back({source.get(), info.name});
        // A source with nothing to prune (a vector, a scalar, an empty array) says so, naming what it holds.
        if (selected.size() == before)
          skip(Error(source->location(), "holds no matrix to measure (" + non_matrices(*source) + ")"));
      }
      return selected;
    }
    for (const auto& name : spec_.tensors) {
      bool found = false;
      for (const auto& source : sources_) {
        if (const TensorInfo* info = source->find(name)) {
          found = true;
          if (info->is_matrix) selected.push_back({source.get(), name});
          else skip(Error(name, info->note.empty() ? "not a matrix" : info->note));
        }
      }
      if (!found && !sources_.empty()) skip(Error(name, "no such tensor in the given sources"));
    }
    return selected;
  }

  // Evaluation activations [tokens, K]: the user's (all of them), else synthetic; timed batches take their first rows.
  MatrixF activations_for(const std::string& tensor, int64_t k, int64_t tokens) const {
    if (user_activations_.size() > 0) {
      if (user_activations_.cols() != k)
        throw Error(spec_.activations_path, "activations have K = " + std::to_string(user_activations_.cols()) +
                                                " but tensor " + tensor + " has K = " + std::to_string(k));
      if (tokens <= 0) return user_activations_;
      if (user_activations_.rows() >= tokens) return user_activations_.topRows(tokens);
    }
    return synthetic_activations(tokens > 0 ? tokens : kSyntheticEvalTokens, k, kSyntheticActivationSeed ^ uint64_t(k));
  }

  bool resuming() const { return spec_.skip_stored && store_; }

  MeasurementKey key_of(const TensorContext& context, const NMPattern& pattern, const QuantConfig& quant,
                        const std::string& engine, int batch) const {
    // The same fields, from the same values, as base_row() and measure_config() write into the row.
    return {context.source_identity,         context.hash, context.name, pattern, quant.canonical(),
            criterion_name(spec_.criterion), engine,       batch};
  }

  // "vec: vector (1-D): not pruned; bias: ...", the first few tensors of a source that holds no matrix.
  static std::string non_matrices(const WeightSource& source) {
    std::string text;
    int listed = 0;
    for (const auto& info : source.tensors()) {
      if (listed++ == 3) return text + ", ...";
      text += (text.empty() ? "" : ", ") + info.name + ": " + (info.note.empty() ? "not a matrix" : info.note);
    }
    return text.empty() ? "no tensors" : text;
  }

  // A configuration that no engine of a family the user asked for can measure (fpga given 3:7 at group 128) is
  // reported once per family with the engine's own reason, instead of silently yielding no row.
  void report_unmeasured_configurations() {
    std::map<std::string, std::vector<const Engine*>> families;
    for (const Engine* engine : engines_) families[engine->family()].push_back(engine);
    for (const auto& [family, members] : families)
      for (const auto& pattern : spec_.patterns)
        for (int bits : spec_.bits) {
          const QuantConfig quant = spec_.quant_config(bits);
          std::string reason;
          bool measured = false;
          for (const Engine* engine : members) {
            if (measures(*engine, pattern, quant))
              measured = true;
            else if (reason.empty())
              engine->supports(pattern, quant, &reason);
          }
          if (measured) continue;
          // Said, not counted as a skip: the rest of the study is what the user asked for, and measured.
          ++summary_.not_measured;
          if (observer_.skipped)
            observer_.skipped(
                Error(family, pattern.to_string() + " " + (bits == 16 ? "fp16" : "int" + std::to_string(bits)) +
                                  " not measured: " + (reason.empty() ? "no engine supports it" : reason)));
        }
  }

  // How many of the configuration's (engine, batch) jobs already have their row in the store.
  int64_t stored_jobs(const TensorContext& context, const NMPattern& pattern, const QuantConfig& quant) const {
    if (!resuming()) return 0;
    int64_t stored = 0;
    for (const auto& [engine, batch] : jobs_for(pattern, quant)) stored += stored_.count(key_of(context, pattern, quant, engine, batch));
    return stored;
  }

  // Whether an engine measures this configuration at all: a variant built for others (cpu/int4-2:4 given 8-bit
  // 1:4, gpu/int8-dense given 2:4 int4) has nothing to say about it and gets no row, here or on a host without its
  // device; one that could run it but cannot here (no GPU) gets an "unavailable" row with the reason.
  static bool measures(const Engine& engine, const NMPattern& pattern, const QuantConfig& quant) {
    return engine.supports(pattern, quant, nullptr);
  }

  // The (engine, batch) rows one configuration yields, as the rows name them ("none", 0 without engines).
  std::vector<std::pair<std::string, int>> jobs_for(const NMPattern& pattern, const QuantConfig& quant) const {
    std::vector<std::pair<std::string, int>> jobs;
    if (engines_.empty() && included(pattern, quant, "none", 0)) jobs.emplace_back("none", 0);
    for (const Engine* engine : engines_)
      if (measures(*engine, pattern, quant))
        for (int batch : spec_.batches)
          if (included(pattern, quant, engine->name(), batch)) jobs.emplace_back(engine->name(), batch);
    return jobs;
  }

  bool included(const NMPattern& pattern, const QuantConfig& quant, const std::string& engine, int batch) const {
    return !spec_.include_job || spec_.include_job(pattern, quant.bits, engine, batch);
  }

  int64_t jobs_per_pattern(const NMPattern& pattern) const {
    int64_t jobs = 0;
    for (int bits : spec_.bits) jobs += int64_t(jobs_for(pattern, spec_.quant_config(bits)).size());
    return jobs;
  }

  int64_t jobs_per_tensor() const {
    int64_t jobs = 0;
    for (const auto& pattern : spec_.patterns) jobs += jobs_per_pattern(pattern);
    return jobs;
  }

  void count_stored(int64_t jobs) {
    summary_.already_stored += jobs;
    progress_.done += jobs;
  }

  // Reads the tensor's stored keys; true when every job of the tensor is stored (nothing to load or measure).
  bool tensor_already_stored(const TensorContext& context) {
    try {
      stored_ = store_->stored_keys(context.name);
      // An "unavailable" row is done only while its engine still cannot run: a database taken to a GPU host has its
      // GPU rows measured there.
      for (const MeasurementKey& key : store_->unavailable_keys(context.name))
        if (const Engine* engine = registry_.find(key.engine); engine && engine->availability().available)
          stored_.erase(key);
    } catch (const Error& error) {
      throw StoreFailure{error};
    }
    int64_t stored = 0;
    for (const auto& pattern : spec_.patterns)
      for (int bits : spec_.bits) stored += stored_jobs(context, pattern, spec_.quant_config(bits));
    return stored == jobs_per_tensor();
  }

  // Whether a tensor is measured in row slices (measure_tensor_streamed): no engine needs its whole packed matrix
  // (no engine selected, or every timing of its shape already made), no scale spans rows (not per tensor), and its
  // source decodes a row range without the rest (synthetic, or safetensors of a model directory).
  bool streams(const SelectedTensor& selected) const {
    // A job filter (sweep shards) picks single rows; the streamed path emits whole configurations.
    if (resuming() || spec_.include_job || spec_.granularity == Granularity::Tensor) return false;
    const std::string& location = selected.source->location();
    if (!is_synthetic_spec(location) && !is_model_path(location)) return false;
    if (engines_.empty()) return true;
    if (!spec_.time_once_per_shape) return false;
    const TensorInfo* info = selected.source->find(selected.name);
    if (!info) return false;
    for (const auto& pattern : spec_.patterns)
      for (int bits : spec_.bits) {
        const QuantConfig quant = spec_.quant_config(bits);
        for (const auto& [engine, batch] : jobs_for(pattern, quant))
          if (!timings_.count({info->rows(), info->cols(), pattern, quant.canonical(), engine, batch})) return false;
      }
    return true;
  }

  // Accuracy and storage of every configuration, slice by slice of kAccuracyBlockRows rows, in parallel: a slice is
  // decoded, pruned, coded and scored while it sits in cache (slice_accuracy.hpp), so a 7B model's layers never make
  // a round trip through memory per step, and no more than a few slices are held at once. The figures are the
  // whole-matrix path's to the bit (the same block sums added in the same order, whatever the number of threads), and
  // the storage is the analytic size of the slices' packed buffers (packed_storage_bytes, pinned to
  // PackedMatrix::storage_bytes by a test), which adds up to the whole matrix's when every scale belongs to one row.
  void measure_tensor_streamed(const SelectedTensor& selected) {
    std::vector<SliceConfiguration> configs;
    for (const auto& pattern : spec_.patterns)
      for (int bits : spec_.bits) configs.push_back({pattern, spec_.quant_config(bits)});
    TensorContext context{
        selected.source, source_identity(selected.source->location()), selected.name, {}, {}, {}, {}, {}, {}};
    remember_source_precision(selected);
    const TensorInfo& info = *selected.source->find(selected.name);
    const int64_t rows = info.rows(), cols = info.cols();
    const int64_t slices = (rows + kAccuracyBlockRows - 1) / kAccuracyBlockRows;
    std::vector<SliceSums> figures(static_cast<size_t>(slices));
    std::vector<WeightRange> ranges(static_cast<size_t>(slices));
    std::vector<PackedMatrix> first_slice(configs.size());  // describes each configuration's row
    report_progress(selected.name + "  streaming " + std::to_string(configs.size()) + " configurations");
    context.hash = selected.source->tensor_hash(selected.name);
    const ColumnMajorD activations = activations_for(selected.name, cols, 0).cast<double>();
    if (spec_.criterion == PruningCriterion::Wanda)
      context.input_norms = activation_column_norms(activations_for(selected.name, cols, 0));
    const VectorF* input_norms = spec_.criterion == PruningCriterion::Wanda ? &context.input_norms : nullptr;
    tbb::parallel_for(tbb::blocked_range<int64_t>(0, slices, 1), [&](const auto& range) {
      for (int64_t slice = range.begin(); slice != range.end(); ++slice) {
        check_cancel();
        const int64_t first = slice * kAccuracyBlockRows;
        const MatrixF weights = selected.source->load_rows(selected.name, first, std::min(kAccuracyBlockRows, rows - first));
        figures[size_t(slice)] = slice_accuracy_sums(weights, configs, spec_.criterion, input_norms, activations);
        ranges[size_t(slice)] = weight_range(weights);
        if (slice != 0 || !figures[0].finite) continue;
        for (size_t index = 0; index < configs.size(); ++index)
          first_slice[index] = compress(weights, select_nm(weights, configs[index].pattern, spec_.criterion, input_norms),
                                        configs[index].quant);
      }
    });
    for (const auto& slice : figures)
      if (!slice.finite) throw Error(selected.name, "contains NaN or infinite values; nothing can be measured on it");
    AccuracySums reference;
    for (const auto& slice : figures) reference.add(slice.reference);
    for (const WeightRange& range : ranges) context.range.merge(range);
    for (size_t index = 0; index < configs.size(); ++index) {
      AccuracySums total = reference;
      int64_t storage = 0;
      for (int64_t slice = 0; slice < slices; ++slice) {
        total.weight_diff += figures[size_t(slice)].errors[index].weight_diff;
        total.output_diff += figures[size_t(slice)].errors[index].output_diff;
        const int64_t slice_rows = std::min(kAccuracyBlockRows, rows - slice * kAccuracyBlockRows);
        storage += packed_storage_bytes(slice_rows, cols, configs[index].pattern, configs[index].quant);
      }
      Measurement base = base_row(context, first_slice[index], accuracy_from_sums(total));
      base.rows = rows;
      base.storage_bytes = storage;
      base.compression_vs_fp16 = 2.0 * double(rows) * double(cols) / double(storage);
      emit_rows(base, configs[index].pattern, configs[index].quant);
    }
  }

  // The rows of one configuration without running an engine: "none", or every engine job from a timing of the same
  // shape (streams() made sure there is one). Batch outer, engine inner, as measure_config orders them.
  void emit_rows(const Measurement& base, const NMPattern& pattern, const QuantConfig& quant) {
    const std::string label = base.tensor + "  " + pattern.to_string() + " " +
                              (quant.is_fp16() ? "fp16" : "int" + std::to_string(quant.bits));
    // Progress before each row and a cancel check after it, as for measured jobs.
    auto announce = [&](const std::string& current) {
      report_progress(current);
      check_cancel();
    };
    if (engines_.empty()) {
      announce(label);
      Measurement row = base;
      row.engine = "none";
      store(row);
      ++progress_.done;
      return;
    }
    for (int batch : spec_.batches)
      for (const Engine* engine : engines_) {
        if (!measures(*engine, pattern, quant)) continue;
        announce(label + "  " + engine->name() + " b" + std::to_string(batch));
        Measurement row = base;
        row.engine = engine->name();
        row.batch = batch;
        reuse_timing(row);
        keep_overflow_flag(base, row);
        store(row);
        ++progress_.done;
      }
  }

  void measure_tensor(const SelectedTensor& selected) {
    if (streams(selected)) {
      const int64_t done_before = progress_.done;
      try {
        measure_tensor_streamed(selected);
      } catch (const Error& error) {
        skip(error);
        progress_.done = done_before + jobs_per_tensor();
      }
      return;
    }
    const int64_t jobs = jobs_per_tensor();
    TensorContext context{
        selected.source, source_identity(selected.source->location()), selected.name, {}, {}, {}, {}, {}, {}};
    remember_source_precision(selected);
    try {
      check_cancel();
      report_progress(selected.name + "  loading");
      if (resuming()) {
        // The key holds the content hash, so it is known before the (much larger) weights are read.
        context.hash = selected.source->tensor_hash(selected.name);
        if (tensor_already_stored(context)) {
          count_stored(jobs);
          return;
        }
      }
      context.weights = selected.source->load_matrix(selected.name);
      context.range = weight_range(context.weights);
      if (!all_finite(context.weights))
        throw Error(selected.name, "contains NaN or infinite values; nothing can be measured on it");
      if (context.hash.empty()) context.hash = selected.source->tensor_hash(selected.name);
      context.eval_activations = activations_for(selected.name, context.weights.cols(), 0);
      context.reference = std::make_unique<OutputReference>(context.weights, context.eval_activations);
      if (spec_.criterion == PruningCriterion::Wanda) context.input_norms = activation_column_norms(context.eval_activations);
    } catch (const Error& error) {
      skip(error);
      progress_.done += jobs;
      return;
    }
    for (const auto& pattern : spec_.patterns) {
      check_cancel();
      int64_t pattern_stored = 0;
      for (int bits : spec_.bits) pattern_stored += stored_jobs(context, pattern, spec_.quant_config(bits));
      if (pattern_stored == jobs_per_pattern(pattern)) {
        count_stored(pattern_stored);
        continue;  // no pruning for a pattern whose rows are all stored
      }
      const NMSelection selection = select_nm(context.weights, pattern, spec_.criterion,
                                              spec_.criterion == PruningCriterion::Wanda ? &context.input_norms : nullptr);
      for (int bits : spec_.bits) {
        try {
          measure_config(context, selection, spec_.quant_config(bits));
        } catch (const Error& error) {
          skip(error);
        } catch (const std::bad_alloc&) {
          skip(Error(context.name, "out of memory while measuring " + pattern.to_string() + " at " + std::to_string(bits) + " bits"));
        }
      }
    }
  }

  Measurement base_row(const TensorContext& context, const PackedMatrix& packed, const AccuracyFigures& accuracy) const {
    Measurement row;
    row.study_id = summary_.study_id;
    row.source = context.source_identity;
    row.source_hash = context.hash;
    row.tensor = context.name;
    describe_configuration(row, packed);
    row.criterion = criterion_name(spec_.criterion);
    row.weight_rel_err = accuracy.weight_rel_err;
    row.output_rel_err = accuracy.output_rel_err;
    row.sqnr_db = accuracy.sqnr_db;
    row.details_json = "{}";
    if (const std::string problem = fp16_range_problem(context.range, packed.quant); !problem.empty()) {
      row.status = kOverflowStatus;
      row.note = problem;
    }
    row.host = host_;
    row.build = build_;
    return row;
  }

  // A tensor the file stores block-quantized (a llama.cpp GGUF's Q4_1, ...): its rows say so, because compressing
  // already-quantized weights is a different question from compressing the originals.
  void remember_source_precision(const SelectedTensor& selected) {
    const TensorInfo* info = selected.source->find(selected.name);
    if (info && dtype_is_block_quantized(info->dtype)) source_precision_[selected.name] = info->stored_type;
  }

  // The spec's per-tensor members (role, block) and the source precision added to the row's details.
  void add_tensor_details(Measurement& row) const {
    const auto extra = spec_.tensor_details.find(row.tensor);
    const auto precision = source_precision_.find(row.tensor);
    if (extra == spec_.tensor_details.end() && precision == source_precision_.end()) return;
    nlohmann::json details = nlohmann::json::parse(row.details_json, nullptr, false);
    if (!details.is_object()) details = nlohmann::json::object();
    if (extra != spec_.tensor_details.end()) {
      const nlohmann::json members = nlohmann::json::parse(extra->second, nullptr, false);
      if (members.is_object()) details.update(members);
    }
    if (precision != source_precision_.end()) {
      details["source_precision"] = precision->second;
      const std::string said = "source weights stored as " + precision->second + ": decoded, then compressed again";
      row.note = row.note.empty() ? said : row.note + "; " + said;
    }
    row.details_json = details.dump();
  }

  void store(Measurement row) {
    add_tensor_details(row);
    if (store_) {
      try {
        store_->insert(row);
      } catch (const Error& error) {
        throw StoreFailure{error};
      }
    }
    ++summary_.measurements;
    if (observer_.measured) observer_.measured(row);
  }

  void report_progress(const std::string& current) {
    progress_.current = current;
    if (observer_.progress) observer_.progress(progress_);
  }

  void measure_config(const TensorContext& context, const NMSelection& selection, const QuantConfig& quant) {
    check_cancel();
    if (const int64_t stored = stored_jobs(context, selection.pattern, quant);
        stored == int64_t(jobs_for(selection.pattern, quant).size())) {
      count_stored(stored);
      return;
    }
    const std::string label = context.name + "  " + selection.pattern.to_string() + " " +
                              (quant.is_fp16() ? "fp16" : "int" + std::to_string(quant.bits));
    report_progress(label);
    const PackedMatrix packed = compress(context.weights, selection, quant);
    const MatrixF dequantized = dequantize(packed);
    const AccuracyFigures accuracy = measure_accuracy(context.weights, dequantized, *context.reference);
    const Measurement base = base_row(context, packed, accuracy);
    if (engines_.empty()) {
      Measurement row = base;
      row.engine = "none";
      store(row);
      ++progress_.done;
      return;
    }
    // Batch outer, engine inner: the activations and the double reference of a batch (seconds for a large layer
    // at batch 8192) are computed once and shared by every engine, only when one of them runs.
    for (int batch : spec_.batches) {
      std::optional<MatrixF> activations;
      std::optional<MatrixD> reference;
      std::vector<EngineJob> jobs;
      for (const Engine* engine : engines_) {
        if (!measures(*engine, packed.pattern, packed.quant)) continue;
        if (!included(packed.pattern, packed.quant, engine->name(), batch)) continue;
        check_cancel();
        if (resuming() && stored_.count(key_of(context, selection.pattern, quant, engine->name(), batch))) {
          count_stored(1);
          continue;
        }
        EngineJob job{engine, base};
        job.row.engine = engine->name();
        job.row.batch = batch;
        job.reused = reuse_timing(job.row);
        jobs.push_back(std::move(job));
      }
      time_host_jobs_together(jobs, label, context, packed, dequantized, batch, activations, reference);
      for (EngineJob& job : jobs) {
        check_cancel();  // a cancel stops before the next row, measured or not, is stored
        if (!job.done) {
          report_progress(label + "  " + job.engine->name() + " b" + std::to_string(batch));
          check_cancel();  // a cancel set while progress was reported stops before the job starts
          run_engine(*job.engine, context, packed, dequantized, batch, activations, reference, job.row);
        }
        if (!job.reused) remember_timing(job.row);
        keep_overflow_flag(base, job.row);
        store(job.row);
        ++progress_.done;
      }
    }
  }

  struct EngineJob {
    const Engine* engine;
    Measurement row;
    bool reused = false;  // figures taken from an earlier layer of the same shape
    bool done = false;    // measured (or reused): nothing left to run
  };

  // The jobs of one configuration and batch that time on the host (the CPU engines) are timed in alternating
  // rounds, so that a load on a shared machine slows a variant and its baseline alike: each variant's row keeps,
  // beside its own times, its speedup over its family's baseline measured round by round (details "speedup").
  void time_host_jobs_together(std::vector<EngineJob>& jobs, const std::string& label, const TensorContext& context,
                               const PackedMatrix& packed, const MatrixF& dequantized, int batch,
                               std::optional<MatrixF>& activations, std::optional<MatrixD>& reference) {
    for (EngineJob& job : jobs) job.done = job.reused;
    for (const EngineFamilyTraits& family : all_family_traits()) {
      if (family.dense_baseline.empty()) continue;
      // The family's baseline first: the ratios are against it. Worth it only for a variant with its baseline.
      std::vector<EngineJob*> group;
      for (EngineJob& job : jobs)
        if (!job.done && job.engine->descriptor().family == family.family && job.engine->availability().available)
          group.insert(job.engine->name() == family.dense_baseline ? group.begin() : group.end(), &job);
      if (group.size() >= 2 && group.front()->engine->name() == family.dense_baseline)
        time_group(group, label, context, packed, dequantized, batch, activations, reference);
    }
  }

  void time_group(const std::vector<EngineJob*>& host_jobs, const std::string& label, const TensorContext& context,
                  const PackedMatrix& packed, const MatrixF& dequantized, int batch,
                  std::optional<MatrixF>& activations, std::optional<MatrixD>& reference) {
    if (!activations) activations = activations_for(context.name, packed.cols, batch);
    if (!reference) reference = reference_product(*activations, dequantized);
    EngineInput input{context.weights, packed, dequantized, *activations, *reference, spec_.timing, cancel_};
    std::vector<EngineJob*> timed;
    std::vector<std::unique_ptr<PreparedJob>> prepared;
    for (EngineJob* job : host_jobs) {
      std::unique_ptr<PreparedJob> ready;
      try {
        ready = job->engine->prepare(input);
      } catch (const Cancelled&) {
        throw;
      } catch (const std::exception&) {
        continue;  // run alone below, where the failure is reported in its row
      }
      if (!ready) continue;
      timed.push_back(job);
      prepared.push_back(std::move(ready));
    }
    if (timed.size() < 2 || timed.front() != host_jobs.front())
      return;  // the rest run alone, as engines that time themselves

    std::string names;
    for (const EngineJob* job : timed) names += (names.empty() ? "" : " + ") + job->engine->name();
    report_progress(label + "  " + names + " b" + std::to_string(batch) + " (interleaved)");
    check_cancel();
    std::vector<TimedBody> bodies;
    for (auto& job : prepared) bodies.push_back([ready = job.get()](int repetition) { ready->call(repetition); });
    const InterleavedTiming timing = time_interleaved(bodies, spec_.timing, cancel_);
    for (size_t index = 0; index < timed.size(); ++index) {
      EngineOutput output;
      try {
        output = prepared[index]->finish(timing.stats[index]);
      } catch (const std::exception& error) {
        output.status = "failed";
        output.note = error.what();
      }
      if (index > 0 && output.status == "ok")
        output.details_json =
            with_interleaved_speedup(output.details_json, timed.front()->engine->name(), timing.vs_first[index]);
      fill_row(output, timed[index]->row);
      timed[index]->done = true;
    }
  }

  // What makes two engine jobs the same timing: the shape, the configuration, the engine and the batch.
  using TimingKey = std::tuple<int64_t, int64_t, NMPattern, QuantConfig, std::string, int>;
  static TimingKey timing_key(const Measurement& row) {
    return {row.rows, row.cols, row.pattern, row.quant.canonical(), row.engine, row.batch};
  }

  // Fills the row's engine figures from an earlier layer of the same shape; false when there is none.
  bool reuse_timing(Measurement& row) {
    if (!spec_.time_once_per_shape) return false;
    const auto found = timings_.find(timing_key(row));
    if (found == timings_.end()) return false;
    const Measurement& timed = found->second;
    row.time_us = timed.time_us;
    row.time_p10_us = timed.time_p10_us;
    row.time_p90_us = timed.time_p90_us;
    row.cycles = timed.cycles;
    row.engine_rel_err = timed.engine_rel_err;
    row.status = timed.status;
    const std::string timed_on = "timed on " + timed.tensor + " (same shape)";
    row.note = timed.note.empty() ? timed_on : timed.note + "; " + timed_on;
    nlohmann::json details = nlohmann::json::parse(timed.details_json, nullptr, false);
    if (!details.is_object()) details = nlohmann::json::object();
    details["timed_on"] = timed.tensor;
    row.details_json = details.dump();
    ++summary_.timings_reused;
    return true;
  }

  // An engine's "ok" does not lift the configuration's fp16 overflow: the row keeps the flag and both notes.
  static void keep_overflow_flag(const Measurement& base, Measurement& row) {
    if (base.status != kOverflowStatus || row.status != "ok") return;
    row.status = kOverflowStatus;
    row.note = row.note.empty() ? base.note : base.note + "; " + row.note;
  }

  void remember_timing(const Measurement& row) {
    if (!spec_.time_once_per_shape) return;
    timings_.emplace(timing_key(row), row);
    if (timed_shapes_.insert({row.rows, row.cols}).second) ++summary_.shapes_timed;
  }

  void run_engine(const Engine& engine, const TensorContext& context, const PackedMatrix& packed,
                  const MatrixF& dequantized, int batch, std::optional<MatrixF>& activations,
                  std::optional<MatrixD>& reference, Measurement& row) const {
    const Availability availability = engine.availability();
    std::string reason;
    if (!availability.available) {
      row.status = "unavailable";
      row.note = availability.reason;
      return;
    }
    if (!engine.supports(packed.pattern, packed.quant, &reason)) {
      row.status = "unavailable";
      row.note = reason;
      return;
    }
    if (!activations) activations = activations_for(context.name, packed.cols, batch);
    if (!reference) reference = reference_product(*activations, dequantized);
    EngineInput input{context.weights, packed, dequantized, *activations, *reference, spec_.timing, cancel_};
    EngineOutput output;
    try {
      output = engine.run(input);
    } catch (const Cancelled&) {
      throw;
    } catch (const std::exception& error) {
      output.status = "failed";
      output.note = error.what();
    }
    fill_row(output, row);
  }

  static void fill_row(const EngineOutput& output, Measurement& row) {
    row.status = output.status;
    row.note = output.note;
    row.details_json = output.details_json;
    row.cycles = output.cycles;
    row.engine_rel_err = output.engine_rel_err;
    if (output.time) {
      row.time_us = output.time->median_us;
      row.time_p10_us = output.time->p10_us;
      row.time_p90_us = output.time->p90_us;
    }
  }

  const StudySpec& spec_;
  ResultsStore* store_;
  const StudyObserver& observer_;
  const std::atomic<bool>* cancel_;
  EngineRegistry registry_;
  std::vector<const Engine*> engines_;
  std::map<TimingKey, Measurement> timings_;               // time_once_per_shape: the first row of each timing
  std::set<std::pair<int64_t, int64_t>> timed_shapes_;
  std::map<std::string, std::string> source_precision_;     // tensor -> its block type, for block-quantized tensors
  std::set<MeasurementKey> stored_;                         // the current tensor's stored keys, when resuming
  std::vector<std::unique_ptr<WeightSource>> sources_;
  MatrixF user_activations_;
  StudySummary summary_;
  StudyProgress progress_;
  std::string host_;
  std::string build_;
};

}  // namespace

void StudySpec::validate() const {
  if (sources.empty()) throw SettingError(Setting::Weights, "no weight source given");
  if (patterns.empty()) throw SettingError(Setting::Pattern, "no pattern given");
  if (bits.empty()) throw SettingError(Setting::Bits, "no bit width given");
  for (int width : bits) quant_config(width).validate();
  if (batches.empty()) throw SettingError(Setting::Batch, "no batch size given");
  for (int batch : batches)
    if (batch <= 0 || batch > 65536)
      throw SettingError(Setting::Batch, "batch size " + std::to_string(batch) + " is not in 1..65536");
  if (criterion == PruningCriterion::Wanda && activations_path.empty())
    throw SettingError(Setting::Criterion,
                       "wanda needs calibration activations: pass --activations FILE.npy ([tokens, K])");
  EngineRegistry::with_options(engine_options).select(engines);
}

QuantConfig StudySpec::quant_config(int width) const {
  QuantConfig quant;
  quant.bits = width;
  quant.granularity = granularity;
  quant.group = group;
  quant.symmetric = symmetric;
  return quant;
}

std::string new_study_id() {
  std::random_device device;
  std::ostringstream id;
  id << utc_timestamp() << "-" << std::hex << (uint32_t(device()) & 0xffffff);
  return id.str();
}

StudySummary run_study(const StudySpec& spec, ResultsStore* store, const StudyObserver& observer,
                       const std::atomic<bool>* cancel) {
  spec.validate();
  StudyRun run(spec, store, observer, cancel);
  return run.run();
}

}  // namespace nmscope
