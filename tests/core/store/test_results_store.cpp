// The results database through its public API: round trips, the file's identity and version checks, failure paths
// and concurrent writers. Raw SQLite connections look behind the store's back at what it wrote.
#include <sys/wait.h>
#include <unistd.h>

#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <set>
#include <thread>

#include "nmscope/error.hpp"
#include "nmscope/results_store.hpp"
#include "store_test_support.hpp"

using nmscope::Error;
using nmscope::Measurement;
using nmscope::ResultsStore;
using store_test::RawDatabase;

namespace {

// Opening must fail with Error(path, reason); returns the reason ("" when it did not fail).
QString open_failure(const std::string& path) {
  try {
    ResultsStore store(path);
  } catch (const Error& error) {
    if (error.subject() != path) return "wrong subject: " + QString::fromStdString(error.subject());
    return QString::fromStdString(error.reason());
  }
  return {};
}

}  // namespace

class TestResultsStore final : public QObject {
  Q_OBJECT

 private slots:
  void roundTripsEveryField() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("results.db").toStdString();
    std::vector<Measurement> inserted;
    {
      ResultsStore store(path);
      QCOMPARE(store.count(), 0);
      for (int i = 0; i < 7; ++i) {
        Measurement m = store_test::sample_measurement(i, i % 2 ? "study-b" : "study-a");
        if (i == 4) {
          m.sqnr_db = std::numeric_limits<double>::infinity();  // weight_rel_err 0 gives +inf dB
          m.tensor = "quote \" comma , newline \n tab \t end";
          m.note = "line one\r\nline two";
        }
        if (i == 5) {
          m.weight_rel_err = std::numeric_limits<double>::quiet_NaN();  // 0/0 on an all-zero tensor
          m.details_json = "{}";
        }
        const int64_t id = store.insert(m);
        QCOMPARE(id, i + 1);
        inserted.push_back(m);
      }
      QCOMPARE(store.count(), 7);
    }

    // Reopened, so nothing is served from the writing connection.
    ResultsStore store(path);
    const std::vector<Measurement> rows = store.all();
    QCOMPARE(rows.size(), inserted.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      QVERIFY2(store_test::differences(rows[i], inserted[i]).isEmpty(),
               qPrintable(QString("row %1 differs in: %2").arg(i).arg(store_test::differences(rows[i], inserted[i]))));
    }
    QVERIFY(!rows[0].time_us.has_value() && !rows[0].cycles.has_value());  // index 0 has no engine figures
    QCOMPARE(*rows[1].cycles, 123456789012LL);

    const std::vector<Measurement> study_b = store.by_study("study-b");
    QCOMPARE(study_b.size(), std::size_t{3});
    for (std::size_t i = 0; i < study_b.size(); ++i) {
      QVERIFY(store_test::differences(study_b[i], inserted[2 * i + 1]).isEmpty());
    }
    QVERIFY(store.by_study("no such study").empty());
  }

  void fillsCreatedAtWhenEmpty() {
    QTemporaryDir dir;
    ResultsStore store(dir.filePath("results.db").toStdString());
    Measurement m = store_test::sample_measurement(1);
    m.created_at.clear();
    store.insert(m);
    const std::string created_at = store.all().front().created_at;
    QVERIFY2(QRegularExpression("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$")
                 .match(QString::fromStdString(created_at))
                 .hasMatch(),
             created_at.c_str());
  }

  void writesWalSchemaVersionAndIdentity() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("results.db").toStdString();
    {
      ResultsStore store(path);
      for (int i = 0; i < 4; ++i) store.insert(store_test::sample_measurement(i));
    }
    RawDatabase raw(path);
    QCOMPARE(raw.text("PRAGMA journal_mode"), std::string("wal"));
    QCOMPARE(raw.integer("PRAGMA user_version"), ResultsStore::kSchemaVersion);
    QCOMPARE(raw.integer("PRAGMA application_id"), ResultsStore::kApplicationId);
    QCOMPARE(raw.text("PRAGMA integrity_check"), std::string("ok"));

    // The table's columns are id followed by measurement_columns(), in order.
    std::vector<std::string> columns;
    sqlite3_stmt* info = nullptr;
    QCOMPARE(sqlite3_prepare_v2(raw.handle(), "PRAGMA table_info(measurements)", -1, &info, nullptr), SQLITE_OK);
    while (sqlite3_step(info) == SQLITE_ROW) columns.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(info, 1)));
    sqlite3_finalize(info);
    std::vector<std::string> expected{"id"};
    expected.insert(expected.end(), nmscope::measurement_columns().begin(), nmscope::measurement_columns().end());
    QCOMPARE(columns, expected);

    QCOMPARE(raw.integer("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'measurements' "
                         "AND sql LIKE '%(study_id)%'"),
             1);
    QCOMPARE(raw.integer("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'measurements' "
                         "AND sql LIKE '%(tensor, engine)%'"),
             1);
    // Booleans as 0/1, absent engine figures as NULL, numbers with their SQL types.
    QCOMPARE(raw.text("SELECT group_concat(symmetric) FROM measurements"), std::string("1,0,1,0"));
    QCOMPARE(raw.text("SELECT typeof(time_us) || typeof(cycles) FROM measurements WHERE id = 1"), std::string("nullnull"));
    QCOMPARE(raw.text("SELECT typeof(time_us) || typeof(cycles) || typeof(storage_bytes) FROM measurements WHERE id = 2"),
             std::string("realintegerinteger"));
  }

  void createsParentDirectory() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("deep/er/results.db").toStdString();
    ResultsStore store(path);
    store.insert(store_test::sample_measurement(0));
    QVERIFY(QFile::exists(QString::fromStdString(path)));
  }

  void createsSchemaInEmptyFile() {
    QTemporaryDir dir;
    const QString path = dir.filePath("empty.db");
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.close();
    {
      ResultsStore store(path.toStdString());
      store.insert(store_test::sample_measurement(0));
    }
    RawDatabase raw(path.toStdString());
    QCOMPARE(raw.integer("PRAGMA user_version"), ResultsStore::kSchemaVersion);
    QCOMPARE(raw.integer("SELECT count(*) FROM measurements"), 1);
    // No schema before, so nothing to back up.
    QVERIFY(QDir(dir.path()).entryList({"*.bak"}, QDir::Files).isEmpty());
  }

  void refusesNewerSchemaUntouched() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("results.db").toStdString();
    {
      ResultsStore store(path);
      store.insert(store_test::sample_measurement(0));
    }
    {
      RawDatabase raw(path);
      raw.exec("PRAGMA user_version = " + std::to_string(ResultsStore::kSchemaVersion + 1));
    }
    const QByteArray before = store_test::file_bytes(QString::fromStdString(path));
    QVERIFY(!before.isEmpty());

    QCOMPARE(open_failure(path), QString("written by a newer nmscope (schema %1, this build reads up to %2)")
                                     .arg(ResultsStore::kSchemaVersion + 1)
                                     .arg(ResultsStore::kSchemaVersion));
    QCOMPARE(store_test::file_bytes(QString::fromStdString(path)), before);
    QVERIFY(QDir(dir.path()).entryList({"*.bak"}, QDir::Files).isEmpty());
  }

  void refusesTextFileUntouched() {
    QTemporaryDir dir;
    const QString path = dir.filePath("notes.db");
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(QByteArray("tensor,bits\nlayer0,4\n").repeated(20));
    file.close();
    const QByteArray before = store_test::file_bytes(path);

    const QString reason = open_failure(path.toStdString());
    QVERIFY2(reason.startsWith("not an nmscope results database: "), qPrintable(reason));
    QCOMPARE(store_test::file_bytes(path), before);
  }

  void refusesForeignDatabaseUntouched_data() {
    QTest::addColumn<QString>("setup");
    QTest::addColumn<QString>("expected");
    QTest::newRow("other application_id") << "PRAGMA application_id = 305419896; CREATE TABLE t (x);"
                                          << "application_id is 0x12345678";
    QTest::newRow("other application_id, empty") << "PRAGMA application_id = 305419896;"
                                                 << "application_id is 0x12345678";
    QTest::newRow("tables, no application_id") << "CREATE TABLE customers (name TEXT);"
                                               << "tables but no nmscope application_id";
    QTest::newRow("measurements table, no application_id")
        << "CREATE TABLE measurements (id INTEGER PRIMARY KEY, value REAL); PRAGMA user_version = 1;"
        << "tables but no nmscope application_id";
    QTest::newRow("nmscope id, no measurements table")
        << "PRAGMA application_id = NMSCOPE_ID; PRAGMA user_version = 1; CREATE TABLE other (x);"
        << "no measurements table";
    QTest::newRow("nmscope id, measurements table missing columns")
        << "PRAGMA application_id = NMSCOPE_ID; PRAGMA user_version = 1; CREATE TABLE measurements (id, tensor);"
        << "has no column study_id";
  }

  void refusesForeignDatabaseUntouched() {
    QFETCH(QString, setup);
    QFETCH(QString, expected);
    setup.replace("NMSCOPE_ID", QString::number(ResultsStore::kApplicationId));
    QTemporaryDir dir;
    const std::string path = dir.filePath("other.db").toStdString();
    {
      RawDatabase raw(path);
      raw.exec(setup.toStdString());
    }
    const QByteArray before = store_test::file_bytes(QString::fromStdString(path));

    const QString reason = open_failure(path);
    QVERIFY2(reason.startsWith("not an nmscope results database: "), qPrintable(reason));
    QVERIFY2(reason.contains(expected), qPrintable(reason));
    QCOMPARE(store_test::file_bytes(QString::fromStdString(path)), before);
  }

  void unwritableLocationIsAnError() {
    // Tests run as root, where file modes do not stop writes, so the unwritable location is a path whose parent is
    // a regular file: neither the directory nor the database can be created.
    QTemporaryDir dir;
    const QString blocker = dir.filePath("a-file");
    QFile file(blocker);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.close();

    const std::string path = (blocker + "/results.db").toStdString();
    const QString reason = open_failure(path);
    QVERIFY2(reason.startsWith("cannot create directory"), qPrintable(reason));

    const std::string below_file = (blocker + "/sub/results.db").toStdString();
    QVERIFY(!open_failure(below_file).isEmpty());
  }

  void failedInsertRollsBackAndStoreStaysUsable() {
    // A trigger stands in for SQLITE_FULL / I/O errors: the statement fails inside the store's transaction.
    QTemporaryDir dir;
    const std::string path = dir.filePath("results.db").toStdString();
    ResultsStore store(path);
    store.insert(store_test::sample_measurement(0));
    {
      RawDatabase raw(path);
      raw.exec("CREATE TRIGGER refuse BEFORE INSERT ON measurements WHEN NEW.tensor = 'boom' "
               "BEGIN SELECT RAISE(ABORT, 'simulated: database or disk is full'); END;");
    }
    Measurement boom = store_test::sample_measurement(1);
    boom.tensor = "boom";
    try {
      store.insert(boom);
      QFAIL("insert should have failed");
    } catch (const Error& error) {
      QCOMPARE(error.subject(), path);
      QVERIFY2(QString::fromStdString(error.reason()).contains("simulated: database or disk is full"), error.what());
    }
    QCOMPARE(store.count(), 1);
    // The transaction was closed: the next insert works and the file is sound.
    QCOMPARE(store.insert(store_test::sample_measurement(2)), 2);
    QCOMPARE(store.count(), 2);
    RawDatabase raw(path);
    QCOMPARE(raw.text("PRAGMA integrity_check"), std::string("ok"));
  }

  void concurrentStoresInThreadsLoseNothing() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("results.db").toStdString();
    { ResultsStore creator(path); }  // the schema exists up front; the writers below race only on inserts
    constexpr int kRowsPerWriter = 500;
    std::atomic<int> failures{0};
    std::string first_failure;
    auto writer = [&](const std::string& study) {
      try {
        ResultsStore store(path);
        for (int i = 0; i < kRowsPerWriter; ++i) store.insert(store_test::sample_measurement(i, study));
      } catch (const std::exception& error) {
        if (failures++ == 0) first_failure = error.what();
      }
    };
    std::thread one(writer, "thread-1");
    std::thread two(writer, "thread-2");
    one.join();
    two.join();
    QVERIFY2(failures == 0, first_failure.c_str());

    ResultsStore store(path);
    QCOMPARE(store.count(), 2 * kRowsPerWriter);
    QCOMPARE(store.by_study("thread-1").size(), std::size_t{kRowsPerWriter});
    QCOMPARE(store.by_study("thread-2").size(), std::size_t{kRowsPerWriter});
    RawDatabase raw(path);
    QCOMPARE(raw.text("PRAGMA integrity_check"), std::string("ok"));
  }

  void concurrentCreationOfFreshDatabase() {
    // Both writers find no schema and race to create it; one creates, the other must see it and carry on.
    QTemporaryDir dir;
    const std::string path = dir.filePath("results.db").toStdString();
    std::atomic<int> failures{0};
    auto writer = [&](const std::string& study) {
      try {
        ResultsStore store(path);
        for (int i = 0; i < 50; ++i) store.insert(store_test::sample_measurement(i, study));
      } catch (const std::exception& error) {
        qWarning("%s", error.what());
        ++failures;
      }
    };
    std::thread one(writer, "a");
    std::thread two(writer, "b");
    one.join();
    two.join();
    QCOMPARE(failures.load(), 0);
    QCOMPARE(ResultsStore(path).count(), 100);
  }

  void concurrentProcessesLoseNothing() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("results.db").toStdString();
    constexpr int kRowsPerWriter = 300;
    auto write_rows = [&](const std::string& study) {
      ResultsStore store(path);
      for (int i = 0; i < kRowsPerWriter; ++i) store.insert(store_test::sample_measurement(i, study));
    };
    // No connection is open in this process before the fork, so the child inherits no SQLite state.
    const pid_t child = fork();
    QVERIFY(child >= 0);
    if (child == 0) {
      int code = 0;
      try {
        write_rows("child");
      } catch (const std::exception& error) {
        std::fprintf(stderr, "child: %s\n", error.what());
        code = 1;
      }
      _exit(code);
    }
    QString parent_failure;
    try {
      write_rows("parent");
    } catch (const std::exception& error) {
      parent_failure = error.what();
    }
    int status = 0;
    QCOMPARE(waitpid(child, &status, 0), child);
    QVERIFY2(parent_failure.isEmpty(), qPrintable(parent_failure));
    QVERIFY(WIFEXITED(status));
    QCOMPARE(WEXITSTATUS(status), 0);

    ResultsStore store(path);
    QCOMPARE(store.count(), 2 * kRowsPerWriter);
    QCOMPARE(store.by_study("child").size(), std::size_t{kRowsPerWriter});
  }

  void processesCreatingOneFreshDatabaseAllSucceed() {
    // Several processes open a new database at the same moment (the desktop app and a CLI run on a first start).
    // Each must see no schema or the whole schema, never the tables without the identity that the creator stamps in
    // the same transaction ("not an nmscope results database: it has tables but no nmscope application_id").
    for (int round = 0; round < 25; ++round) {
      QTemporaryDir dir;
      const std::string path = dir.filePath("results.db").toStdString();
      std::vector<pid_t> children;
      for (int writer = 0; writer < 4; ++writer) {
        const pid_t child = fork();
        QVERIFY(child >= 0);
        if (child == 0) {
          int code = 0;
          try {
            ResultsStore store(path);
            store.insert(store_test::sample_measurement(writer));
          } catch (const std::exception& error) {
            std::fprintf(stderr, "writer %d: %s\n", writer, error.what());
            code = 1;
          }
          _exit(code);
        }
        children.push_back(child);
      }
      for (const pid_t child : children) {
        int status = 0;
        QCOMPARE(waitpid(child, &status, 0), child);
        QVERIFY(WIFEXITED(status));
        QVERIFY2(WEXITSTATUS(status) == 0, qPrintable(QString("round %1").arg(round)));
      }
      QCOMPARE(ResultsStore(path).count(), 4);
    }
  }

  void oneStoreSharedByThreads() {
    QTemporaryDir dir;
    ResultsStore store(dir.filePath("results.db").toStdString());
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    std::set<int64_t> ids;
    std::mutex ids_mutex;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 100; ++i) {
          try {
            const int64_t id = store.insert(store_test::sample_measurement(i, "t" + std::to_string(t)));
            std::lock_guard lock(ids_mutex);
            ids.insert(id);
            if (i % 10 == 0) store.count();  // reads interleaved with other threads' writes
          } catch (const std::exception&) {
            ++failures;
          }
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    QCOMPARE(failures.load(), 0);
    QCOMPARE(store.count(), 400);
    QCOMPARE(ids.size(), std::size_t{400});  // each insert reported its own row id
  }

  void defaultPathFollowsXdg() {
    const QByteArray saved_xdg = qgetenv("XDG_DATA_HOME");
    const QByteArray saved_home = qgetenv("HOME");
    const bool had_xdg = qEnvironmentVariableIsSet("XDG_DATA_HOME");

    qputenv("XDG_DATA_HOME", "/data/xdg");
    qputenv("HOME", "/home/someone");
    QCOMPARE(ResultsStore::default_path(), std::string("/data/xdg/nmscope/results.db"));
    qputenv("XDG_DATA_HOME", "relative/is/invalid");
    QCOMPARE(ResultsStore::default_path(), std::string("/home/someone/.local/share/nmscope/results.db"));
    qunsetenv("XDG_DATA_HOME");
    QCOMPARE(ResultsStore::default_path(), std::string("/home/someone/.local/share/nmscope/results.db"));

    if (had_xdg) qputenv("XDG_DATA_HOME", saved_xdg);
    qputenv("HOME", saved_home);
  }
};

QTEST_APPLESS_MAIN(TestResultsStore)
#include "test_results_store.moc"
