// Timing in alternating rounds: each body's own statistics, and per-round ratios against the first body that stay
// what the work makes them while a load comes and goes (simulated: every body slowed 3x in some rounds).
#include <QtTest/QtTest>
#include <chrono>
#include <thread>

#include "nmscope/error.hpp"
#include "nmscope/timing.hpp"

using namespace nmscope;

namespace {

// Busy for about `microseconds` of wall time, as a kernel keeps a core busy.
void spin(double microseconds) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double, std::micro>(microseconds);
  while (std::chrono::steady_clock::now() < until) {
  }
}

}  // namespace

class TestTiming final : public QObject {
  Q_OBJECT

 private slots:
  void ratios_are_per_round_and_survive_a_load_that_comes_and_goes() {
    TimingOptions options;
    options.warmup = 3;
    options.min_repetitions = 40;
    options.target_seconds = 0.0;
    // Rounds 10-19, 30-39 run "under load": both bodies 3x slower in them, as a neighbour's build would make them.
    // The first body runs once a round, so its call count is the round.
    int round = 0;
    auto load = [&] { return (round / 10) % 2 == 1 ? 3.0 : 1.0; };
    const std::vector<TimedBody> bodies = {[&](int repetition) {
                                             round = repetition;
                                             spin(400 * load());
                                           },
                                           [&](int) { spin(100 * load()); }};
    const InterleavedTiming timing = time_interleaved(bodies, options, nullptr);
    QCOMPARE(int(timing.stats.size()), 2);
    QCOMPARE(timing.stats[0].repetitions, 40);
    QCOMPARE(timing.stats[1].repetitions, 40);
    QCOMPARE(timing.vs_first[1].rounds, 40);
    // The fast body is called 4 times a round, so both spend about as long in each round.
    QCOMPARE(timing.calls_per_round, (std::vector<int>{1, 4}));
    // Against itself: exactly 1 every round.
    QCOMPARE(timing.vs_first[0].median, 1.0);
    QCOMPARE(timing.vs_first[0].p90, 1.0);
    // 400 / 100 in every round, loaded or not; a preempted spin only lengthens one sample of one round.
    QVERIFY2(std::abs(timing.vs_first[1].median - 4.0) < 0.6, QByteArray::number(timing.vs_first[1].median));
    QVERIFY(timing.vs_first[1].p10 <= timing.vs_first[1].median && timing.vs_first[1].median <= timing.vs_first[1].p90);
    // Each body's own times see the load: its p90 is the loaded rounds'.
    QVERIFY(timing.stats[1].p90_us > 2.0 * timing.stats[1].p10_us);
  }

  void one_body_is_time_repeated() {
    TimingOptions options;
    options.warmup = 2;
    options.min_repetitions = 5;
    options.target_seconds = 0.0;
    int calls = 0;
    const TimingStats stats = time_repeated([&](int) { ++calls; }, options, nullptr);
    QCOMPARE(stats.repetitions, 5);
    QCOMPARE(calls, 7);
  }

  void the_budget_scales_with_the_bodies_and_cancel_stops() {
    TimingOptions options;
    options.warmup = 0;
    options.min_repetitions = 1;
    options.max_repetitions = 100000;
    options.target_seconds = 0.01;
    const auto start = std::chrono::steady_clock::now();
    time_interleaved({[](int) { spin(50); }, [](int) { spin(50); }, [](int) { spin(50); }}, options, nullptr);
    const double spent = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    QVERIFY2(spent >= 0.03, QByteArray::number(spent));  // three bodies, three budgets
    std::atomic<bool> cancel{false};
    int calls = 0;
    QVERIFY_THROWS_EXCEPTION(Cancelled, time_interleaved({[&](int) {
                                                           if (++calls == 3) cancel = true;
                                                         }},
                                                         options, &cancel));
    QCOMPARE(calls, 3);
  }
};

QTEST_APPLESS_MAIN(TestTiming)
#include "test_timing.moc"
