// The CPU decoder step (issue 9) against the reference forward pass, which is itself checked against transformers:
// decoding a sequence token by token over the KV cache must give, at every position, the logits the whole-sequence
// forward pass gives there (llama with GQA, qwen2's biases and tied head, mistral's window, llama3 rope scaling).
// The packed variants against the same weights dequantized; storage; bad input.
#include <QtTest/QtTest>
#include <cmath>
#include <map>

#include "model_test_support.hpp"
#include "nmscope/cpu_decoder.hpp"
#include "nmscope/error.hpp"
#include "nmscope/forward.hpp"
#include "nmscope/model.hpp"
#include "nmscope/token_ids.hpp"

using namespace nmscope;
using model_test::fixture;

namespace {

// Decodes every sequence of `tokens` position by position (the batch in lockstep) and returns the logits of each
// step, row = sequence * tokens + position: the layout of ForwardOutput::AllLogits.
MatrixF decode_all(CpuDecoder& decoder, const TokenIds& tokens) {
  decoder.reset(tokens.sequences, tokens.tokens);
  MatrixF all(tokens.sequences * tokens.tokens, decoder.shape().vocab);
  for (int64_t position = 0; position < tokens.tokens; ++position) {
    std::vector<int64_t> step_tokens;
    for (int64_t sequence = 0; sequence < tokens.sequences; ++sequence) step_tokens.push_back(tokens.at(sequence, position));
    const MatrixF logits = decoder.step(step_tokens);
    for (int64_t sequence = 0; sequence < tokens.sequences; ++sequence)
      all.row(sequence * tokens.tokens + position) = logits.row(sequence);
  }
  return all;
}

// A small LLaMA shape for synthetic weights: hidden 256 in 4 heads of 64.
ModelConfig small_shape(int64_t intermediate, int64_t blocks, int64_t kv_heads, int64_t vocab) {
  ModelConfig shape;
  shape.model_type = "llama";
  shape.family = ModelFamily::Decoder;
  shape.hidden = 256;
  shape.intermediate = intermediate;
  shape.blocks = blocks;
  shape.heads = 4;
  shape.kv_heads = kv_heads;
  shape.head_dim = 64;
  shape.vocab = vocab;
  return shape;
}

double top1_agreement(const MatrixF& a, const MatrixF& b) {
  int64_t same = 0;
  for (int64_t row = 0; row < a.rows(); ++row) {
    Eigen::Index first = 0, second = 0;
    a.row(row).maxCoeff(&first);
    b.row(row).maxCoeff(&second);
    same += first == second;
  }
  return double(same) / double(a.rows());
}

}  // namespace

class TestCpuDecoder final : public QObject {
  Q_OBJECT

 private slots:
  void decoding_token_by_token_equals_the_forward_pass() {
    for (const std::string name : {"tiny_llama", "tiny_qwen2", "tiny_mistral", "tiny_llama3_rope"}) {
      const auto model = Model::open(fixture(name));
      const TokenIds tokens = read_token_ids(fixture(name + "_tokens.npy"));
      CpuDecoder decoder = CpuDecoder::from_model(*model, CpuDecodeVariant::parse(kCpuDecodeBaseline));
      const MatrixF decoded = decode_all(decoder, tokens);
      const MatrixF forward = run_forward(*model, tokens, {}, ForwardOutput::AllLogits);
      const double error = model_test::relative_error(decoded, forward);
      qInfo("%s: %lld positions decoded over the KV cache, relative error %.3g to the forward pass", name.c_str(),
            static_cast<long long>(decoded.rows()), error);
      QVERIFY2(error < 1e-5, QByteArray::number(error));
    }
  }

  void packed_variants_stay_close_to_their_dequantized_weights() {
    const auto model = Model::open(fixture("tiny_llama"));
    const TokenIds tokens = read_token_ids(fixture("tiny_llama_tokens.npy"));
    for (const std::string engine : {"cpu/int4-2:4", "cpu/int8-dense", "cpu/int4-4:8"}) {
      CpuDecoder packed = CpuDecoder::from_model(*model, CpuDecodeVariant::parse(engine));
      CpuDecoder reference = packed.dequantized();
      // Both read the same embedding rows: the 4-bit table decoded (docs/packed-format.md, "Token-embedding tables").
      QVERIFY(packed.embeddings().quantized() && !reference.embeddings().quantized());
      QVERIFY(reference.embeddings().decoded() == packed.embeddings().decoded());
      const MatrixF logits = decode_all(packed, tokens);
      const MatrixF expected = decode_all(reference, tokens);
      const double error = model_test::relative_error(logits, expected);
      const double agreement = top1_agreement(logits, expected);
      qInfo("%s (%s): relative error %.3g, top-1 agreement %.3f against the same weights dequantized", engine.c_str(),
            packed.isa().c_str(), error, agreement);
      // The kernels round activations (bf16, or int8 per 128 columns); the reference path keeps them fp32.
      QVERIFY2(error < 5e-2, QByteArray::number(error));
      QVERIFY(agreement >= 0.9);
    }
  }

  void synthetic_shape_counts_its_storage_and_reads_a_filled_cache() {
    const ModelConfig shape = small_shape(512, 3, 2, 1000);
    CpuDecoder packed = CpuDecoder::synthetic(shape, CpuDecodeVariant::parse("cpu/int4-2:4"), 5);
    CpuDecoder reference = packed.dequantized();
    // 2:4 + int4 with group-128 fp16 scales: 2 value bits + 1 metadata bit + 16/128 scale bits per weight.
    const double ratio = double(packed.fp16_linear_bytes()) / double(packed.linear_bytes());
    QVERIFY2(std::abs(ratio - 16.0 / 3.125) < 0.01, QByteArray::number(ratio));
    // Everything counted, to the byte. Linear layers at 3.125 bits per weight: per block q 256x256 (25600 B), k and v
    // 128x256 (12800 B each), o 25600 B, gate, up 512x256 and down 256x512 (51200 B each), 3 blocks; head 1000x256
    // (100000 B). Embedding table: 1000 rows of 128 code bytes + 2 fp16 scales. Norm gains: 7 x 256 fp16.
    QCOMPARE(packed.linear_bytes(), int64_t{3 * 230400 + 100000});
    QCOMPARE(packed.embeddings().storage_bytes(), int64_t{1000 * (128 + 2 * 2)});
    QCOMPARE(packed.model_bytes(), int64_t{791200 + 132000 + 7 * 256 * 2});
    QCOMPARE(embedding_storage_bytes(1000, 256, true), packed.embeddings().storage_bytes());
    // The same model all fp16: 3 x 589824 + 256000 linear weights, 256000 embedding values, 1792 gains.
    QCOMPARE(packed.fp16_model_bytes(), int64_t{2 * (3 * 589824 + 256000 + 256000 + 1792)});
    QCOMPARE(reference.model_bytes(), reference.fp16_model_bytes());  // the dense path stores fp16 throughout
    for (CpuDecoder* decoder : {&packed, &reference}) {
      decoder->reset(2, 40);
      decoder->fill_cache(33, 9);
      QCOMPARE(decoder->length(), int64_t{33});
    }
    const MatrixF logits = packed.step({3, 999});
    const MatrixF expected = reference.step({3, 999});
    QCOMPARE(packed.length(), int64_t{34});
    QVERIFY(logits.allFinite());
    QVERIFY2(model_test::relative_error(logits, expected) < 3e-2,
             QByteArray::number(model_test::relative_error(logits, expected)));
    QVERIFY(packed.other_bytes(33) > 4 * 2 * shape.blocks * 2 * 34 * shape.head_dim);  // at least the fp32 KV cache
    QCOMPARE(reference.linear_read_bytes(), 2 * reference.fp16_linear_bytes());  // fp32 weights on the dense path
  }

  void a_batch_equals_its_sequences_run_alone() {
    // Sequences share nothing but the weights: the int8 activation blocks are per token, so a row of a batch must
    // equal that sequence decoded alone.
    const ModelConfig shape = small_shape(384, 2, 2, 300);
    CpuDecoder batched = CpuDecoder::synthetic(shape, CpuDecodeVariant::parse("cpu/int4-2:4"), 8);
    CpuDecoder alone = CpuDecoder::synthetic(shape, CpuDecodeVariant::parse("cpu/int4-2:4"), 8);
    const std::vector<int64_t> tokens = {5, 17, 299, 0, 42};
    batched.reset(int64_t(tokens.size()), 8);
    MatrixF together;
    for (int step = 0; step < 3; ++step) together = batched.step(tokens);
    for (size_t sequence = 0; sequence < tokens.size(); ++sequence) {
      alone.reset(1, 8);
      MatrixF single;
      for (int step = 0; step < 3; ++step) single = alone.step({tokens[sequence]});
      const double error = model_test::relative_error(together.row(Eigen::Index(sequence)), single);
      QVERIFY2(error < 1e-5, QByteArray::number(error));
    }
  }

  void a_timed_step_reports_speed_storage_and_its_error() {
    const ModelConfig shape = small_shape(384, 2, 1, 512);
    CpuDecoder packed = CpuDecoder::synthetic(shape, CpuDecodeVariant::parse("cpu/int4-2:4"), 3);
    CpuDecoder reference = packed.dequantized();
    TimingOptions timing;
    timing.min_repetitions = 3;
    timing.target_seconds = 0.01;
    const CpuDecodeRun run = time_cpu_decode(packed, &reference, 4, 100, timing, 7);
    QCOMPARE(run.batch, int64_t{4});
    QVERIFY(run.step.median_us > 0 && run.step.repetitions >= 3);
    QCOMPARE(run.tokens_per_second, 4 / (run.step.median_us * 1e-6));
    QVERIFY(run.relative_error > 0 && run.relative_error < 5e-2);
    QVERIFY(run.reference.find("cpu/int4-2:4") != std::string::npos);
    QCOMPARE(packed.length(), int64_t{101});  // each repetition rewinds to the context, then appends one token
    QVERIFY(run.bytes_read > run.linear_bytes);
  }

  // The activation precisions in order: fp32 (the default: the fp32 kernel on 2:4) and a bf16 pair keep the logits
  // at the reference's, bf16 within 1 %, int8 per 128 columns further off; the decoder says which ran. A format the
  // fp32 kernel does not take (1:4) falls back to the pair.
  void activation_precisions_order_the_logits_error() {
    const auto model = Model::open(fixture("tiny_llama"));
    const TokenIds tokens = read_token_ids(fixture("tiny_llama_tokens.npy"));
    CpuDecodeVariant variant = CpuDecodeVariant::parse("cpu/int4-2:4");
    QVERIFY(variant.activations == DecodeActivations::Fp32);
    std::map<DecodeActivations, double> error;
    CpuDecoder first = CpuDecoder::from_model(*model, variant);
    if (first.isa() != "avx512-fp32") QSKIP("no AVX-512 VNNI + VBMI on this CPU: the decoder runs another kernel");
    QCOMPARE(first.activation_text(), std::string("fp32"));
    CpuDecoder reference = first.dequantized();
    const MatrixF expected = decode_all(reference, tokens);
    CpuDecodeVariant one_of_four = CpuDecodeVariant::parse("cpu/int4-1:4");
    const bool bf16 = CpuDecoder::from_model(*model, one_of_four).activation_text() != "int8 per 128 columns";
    if (bf16)
      QCOMPARE(CpuDecoder::from_model(*model, one_of_four).activation_text(), std::string("bf16 pair (high + low)"));
    std::vector<DecodeActivations> precisions = {DecodeActivations::Fp32};
    if (bf16) precisions.insert(precisions.end(), {DecodeActivations::Bf16Pair, DecodeActivations::Bf16});
    precisions.push_back(DecodeActivations::Int8);
    for (DecodeActivations activations : precisions) {
      variant.activations = activations;
      CpuDecoder decoder = CpuDecoder::from_model(*model, variant);
      error[activations] = model_test::relative_error(decode_all(decoder, tokens), expected);
      qInfo("tiny_llama cpu/int4-2:4, %s activations (%s, %s): logits relative error %.3g",
            decode_activations_name(activations).c_str(), decoder.activation_text().c_str(), decoder.isa().c_str(),
            error[activations]);
      QCOMPARE(parse_decode_activations(decode_activations_name(activations)), activations);
    }
    QVERIFY2(error[DecodeActivations::Fp32] < 1e-5, QByteArray::number(error[DecodeActivations::Fp32]));
    if (bf16) {
      QVERIFY2(error[DecodeActivations::Bf16Pair] < 1e-4, QByteArray::number(error[DecodeActivations::Bf16Pair]));
      QVERIFY2(error[DecodeActivations::Bf16] < 1e-2, QByteArray::number(error[DecodeActivations::Bf16]));
      QVERIFY(error[DecodeActivations::Bf16Pair] < error[DecodeActivations::Bf16]);
      QVERIFY(error[DecodeActivations::Bf16] < error[DecodeActivations::Int8]);
    }
    QVERIFY(error[DecodeActivations::Fp32] < error[DecodeActivations::Int8]);
    QVERIFY_THROWS_EXCEPTION(SettingError, parse_decode_activations("fp8"));
  }

  // A model's step is checked from the cache its reference leaves after reading `context` tokens, not from N(0,1)
  // keys (where a real model's attention turns on rounding); a decoder given that cache steps exactly as the one
  // that filled it.
  void a_model_step_is_checked_from_a_cache_the_reference_prefilled() {
    const auto model = Model::open(fixture("tiny_llama"));
    CpuDecoder packed = CpuDecoder::from_model(*model, CpuDecodeVariant::parse("cpu/int4-2:4"));
    CpuDecoder reference = packed.dequantized();
    TimingOptions timing;
    timing.min_repetitions = 3;
    timing.target_seconds = 0.01;
    const CpuDecodeRun run = time_cpu_decode(packed, &reference, 2, 6, timing, 7);
    QVERIFY2(run.cache.find("prefilled by the reference over 6") != std::string::npos, run.cache.c_str());
    QVERIFY(run.relative_error > 0 && run.relative_error < 5e-2);

    CpuDecoder filled = packed.dequantized(), copy = packed.dequantized();
    filled.reset(1, 8);
    filled.prefill(5, 3);
    QCOMPARE(filled.length(), int64_t{5});
    copy.reset(1, 8);
    copy.copy_cache_from(filled);
    QVERIFY(copy.step({42}) == filled.step({42}));
    CpuDecoder other_batch = packed.dequantized();
    other_batch.reset(2, 8);
    QVERIFY_THROWS_EXCEPTION(Error, other_batch.copy_cache_from(filled));
  }

  // cpu/onednn-bf16-dense, the stronger dense baseline: the model's fp32 weights rounded to bf16 for oneDNN's matmul
  // (one product per batch), checked against the same weights in fp32 on Eigen: bf16's rounding, not more; it reads
  // two bytes per weight, and says what ran.
  void the_onednn_baseline_steps_in_bf16_beside_fp32() {
    const auto model = Model::open(fixture("tiny_llama"));
    const TokenIds tokens = read_token_ids(fixture("tiny_llama_tokens.npy"));
    const CpuDecodeVariant variant = CpuDecodeVariant::parse(kCpuDecodeOneDnn);
    QVERIFY(variant.onednn && !variant.packed);
    CpuDecoder onednn = CpuDecoder::from_model(*model, variant);
    CpuDecoder fp32 = onednn.dequantized();
    QCOMPARE(fp32.isa(), std::string("eigen"));
    const MatrixF expected = decode_all(fp32, tokens);
    MatrixF logits;
    try {
      logits = decode_all(onednn, tokens);
    } catch (const Error& error) {
      // Only a CPU without oneDNN's bf16 kernels may refuse it; a module that does not load is a broken build.
      if (std::string(error.what()).find("no bf16 matmul") != std::string::npos) QSKIP(error.what());
      throw;
    }
    const double error = model_test::relative_error(logits, expected);
    qInfo("tiny_llama on %s (%s): logits relative error %.3g, top-1 %.2f", kCpuDecodeOneDnn, onednn.isa().c_str(),
          error, top1_agreement(logits, expected));
    QVERIFY2(error > 0 && error < 2e-2, QByteArray::number(error));
    QVERIFY(top1_agreement(logits, expected) >= 0.9);
    QVERIFY2(onednn.isa().rfind("onednn ", 0) == 0, onednn.isa().c_str());
    QCOMPARE(onednn.activation_text(), std::string("bf16"));
    QCOMPARE(onednn.linear_read_bytes() * 2, fp32.linear_read_bytes());  // llama: no biases
    QCOMPARE(cpu_decode_copy_bits({kCpuDecodeBaseline}), 0);
    QCOMPARE(cpu_decode_copy_bits({kCpuDecodeBaseline, "cpu/int4-2:4"}), 8);
    QCOMPARE(cpu_decode_copy_bits({"cpu/int4-2:4", kCpuDecodeOneDnn}), 16);
  }

  void bad_input_is_refused_with_a_reason() {
    QVERIFY_THROWS_EXCEPTION(Error, CpuDecodeVariant::parse("gpu/int4-2:4"));
    QVERIFY_THROWS_EXCEPTION(Error, CpuDecodeVariant::parse("cpu/int5-2:4"));
    QCOMPARE(CpuDecodeVariant::parse("cpu/int3-1:4").pattern, (NMPattern{1, 4}));
    const auto model = Model::open(fixture("tiny_llama"));
    CpuDecoder decoder = CpuDecoder::from_model(*model, CpuDecodeVariant::parse(kCpuDecodeBaseline));
    decoder.reset(1, 2);
    try {
      decoder.step({256});
      QFAIL("a token outside the vocabulary was accepted");
    } catch (const Error& error) {
      QVERIFY(std::string(error.what()).find("outside the vocabulary of 256") != std::string::npos);
    }
    decoder.step({1});
    decoder.step({2});
    QVERIFY_THROWS_EXCEPTION(Error, decoder.step({3}));  // the cache holds 2 positions
    QVERIFY_THROWS_EXCEPTION(Error, decoder.fill_cache(5, 1));
  }
};

QTEST_APPLESS_MAIN(TestCpuDecoder)
#include "test_cpu_decoder.moc"
