// CSV export: RFC 4180 framing, formula neutralization of text cells only, numbers that round-trip, and the
// temporary-file-then-rename write. The file is parsed back with an independent strict parser and compared with
// the database rows read through raw SQLite.
#include <QTemporaryDir>
#include <QtTest>
#include <algorithm>
#include <cstdlib>
#include <limits>
#include <optional>

#include "nmscope/error.hpp"
#include "nmscope/results_store.hpp"
#include "store_test_support.hpp"

using nmscope::Error;
using nmscope::Measurement;
using nmscope::ResultsStore;
using store_test::RawDatabase;

namespace {

using Records = std::vector<std::vector<std::string>>;

// Strict RFC 4180: records end in CRLF, a bare CR or LF is only allowed inside quotes, a quote inside a quoted field
// is doubled, and a quote may not appear inside an unquoted field. nullopt on any violation.
std::optional<Records> parse_rfc4180(const std::string& text) {
  Records records;
  std::vector<std::string> record;
  std::string field;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '"') {
      ++i;
      for (;;) {
        if (i >= text.size()) return std::nullopt;  // unterminated quote
        if (text[i] == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field += text[i++];
      }
    } else {
      while (i < text.size() && text[i] != ',' && text[i] != '\r' && text[i] != '\n') {
        if (text[i] == '"') return std::nullopt;
        field += text[i++];
      }
    }
    if (i < text.size() && text[i] == ',') {
      record.push_back(std::move(field));
      field.clear();
      ++i;
    } else if (i + 1 < text.size() && text[i] == '\r' && text[i + 1] == '\n') {
      record.push_back(std::move(field));
      field.clear();
      records.push_back(std::move(record));
      record.clear();
      i += 2;
    } else {
      return std::nullopt;  // bare CR/LF, text after a closing quote, or no CRLF after the last record
    }
  }
  return records;
}

std::string read_file(const QString& path) { return store_test::file_bytes(path).toStdString(); }

Measurement hostile_measurement() {
  Measurement m = store_test::sample_measurement(1);
  m.tensor = "=HYPERLINK(\"http://evil.example\",\"click\")";
  m.source = "+cmd|' /C calc'!A0";
  m.source_hash = "@SUM(1+1)";
  m.criterion = "-2+3";
  m.note = "comma, \"quote\" and\r\nCRLF";
  m.host = "\tleading tab";
  m.build = "\rleading CR";
  m.sqnr_db = -0.5;  // a number: must stay "-0.5", unneutralized
  m.time_us = 1.0 / 3.0;
  m.engine_rel_err = std::numeric_limits<double>::denorm_min();
  return m;
}

}  // namespace

class TestCsvExport final : public QObject {
  Q_OBJECT

 private slots:
  void parserRejectsMalformedCsv() {
    // The checks below lean on the parser, so it must be strict itself.
    QVERIFY(parse_rfc4180("a,b\r\n").has_value());
    QVERIFY(!parse_rfc4180("a,b\n").has_value());
    QVERIFY(!parse_rfc4180("a,\"b\r\n").has_value());
    QVERIFY(!parse_rfc4180("a,b\"c\r\n").has_value());
    QCOMPARE(parse_rfc4180("\"x\"\"y,\r\nz\",\r\n")->front(), (std::vector<std::string>{"x\"y,\r\nz", ""}));
  }

  void exportMatchesDatabaseRows() {
    QTemporaryDir dir;
    const std::string db_path = dir.filePath("results.db").toStdString();
    const QString csv_path = dir.filePath("report.csv");
    ResultsStore store(db_path);
    for (int i = 0; i < 5; ++i) store.insert(store_test::sample_measurement(i));
    store.insert(hostile_measurement());
    Measurement nan_row = store_test::sample_measurement(7);
    nan_row.weight_rel_err = std::numeric_limits<double>::quiet_NaN();
    nan_row.sqnr_db = std::numeric_limits<double>::infinity();
    store.insert(nan_row);
    store.export_csv(csv_path.toStdString());

    const std::optional<Records> records = parse_rfc4180(read_file(csv_path));
    QVERIFY2(records.has_value(), "export is not strict RFC 4180 with CRLF line ends");
    QCOMPARE(records->size(), std::size_t{8});
    QCOMPARE(records->front(), nmscope::measurement_columns());

    // Every cell against the database value of the same row and column, typed by SQLite's storage class.
    RawDatabase raw(db_path);
    const auto& columns = nmscope::measurement_columns();
    for (std::size_t c = 0; c < columns.size(); ++c) {
      sqlite3_stmt* query = nullptr;
      const std::string sql = "SELECT \"" + columns[c] + "\" FROM measurements ORDER BY id";
      QCOMPARE(sqlite3_prepare_v2(raw.handle(), sql.c_str(), -1, &query, nullptr), SQLITE_OK);
      for (std::size_t r = 1; r < records->size(); ++r) {
        QCOMPARE(sqlite3_step(query), SQLITE_ROW);
        const std::string& cell = (*records)[r].at(c);
        const QString where = QString("row %1 column %2: '%3'").arg(r).arg(columns[c].c_str()).arg(cell.c_str());
        switch (sqlite3_column_type(query, 0)) {
          case SQLITE_NULL:
            QVERIFY2(cell.empty(), qPrintable(where));
            break;
          case SQLITE_INTEGER:
            QVERIFY2(cell == std::to_string(sqlite3_column_int64(query, 0)), qPrintable(where));
            break;
          case SQLITE_FLOAT: {
            char* end = nullptr;
            const double parsed = std::strtod(cell.c_str(), &end);
            QVERIFY2(end == cell.c_str() + cell.size() && !cell.empty(), qPrintable(where));
            QVERIFY2(parsed == sqlite3_column_double(query, 0), qPrintable(where));  // bit-exact round trip
            break;
          }
          default: {
            std::string text(reinterpret_cast<const char*>(sqlite3_column_text(query, 0)));
            if (!text.empty() && std::string("=+-@\t\r").find(text.front()) != std::string::npos) text = "'" + text;
            QVERIFY2(cell == text, qPrintable(where));
          }
        }
      }
      sqlite3_finalize(query);
    }
  }

  void neutralizesAndQuotesHostileText() {
    QTemporaryDir dir;
    const QString csv_path = dir.filePath("report.csv");
    ResultsStore store(dir.filePath("results.db").toStdString());
    store.insert(hostile_measurement());
    store.export_csv(csv_path.toStdString());
    const std::string csv = read_file(csv_path);

    // Literal cells as a spreadsheet receives them.
    QVERIFY(csv.find(R"csv(,"'=HYPERLINK(""http://evil.example"",""click"")",)csv") != std::string::npos);
    QVERIFY(csv.find(",'+cmd|' /C calc'!A0,") != std::string::npos);
    QVERIFY(csv.find(",'@SUM(1+1),") != std::string::npos);
    QVERIFY(csv.find(",'-2+3,") != std::string::npos);
    QVERIFY(csv.find(",\"comma, \"\"quote\"\" and\r\nCRLF\",") != std::string::npos);
    QVERIFY(csv.find(",'\tleading tab,") != std::string::npos);
    QVERIFY(csv.find(",\"'\rleading CR\"\r\n") != std::string::npos);  // build is the last column
    // Numbers are not text: a negative value stays a number.
    QVERIFY(csv.find(",-0.5,") != std::string::npos);
    QVERIFY(csv.find("'-0.5") == std::string::npos);

    const std::optional<Records> records = parse_rfc4180(csv);
    QVERIFY(records.has_value());
    const auto& columns = nmscope::measurement_columns();
    auto cell = [&](const std::string& name) {
      return (*records)[1].at(std::find(columns.begin(), columns.end(), name) - columns.begin());
    };
    QCOMPARE(cell("note"), std::string("comma, \"quote\" and\r\nCRLF"));
    QCOMPARE(std::strtod(cell("time_us").c_str(), nullptr), 1.0 / 3.0);
    QCOMPARE(std::strtod(cell("engine_rel_err").c_str(), nullptr), std::numeric_limits<double>::denorm_min());
    QCOMPARE(cell("symmetric"), std::string("0"));
    QCOMPARE(cell("storage_bytes"), std::to_string((int64_t{1} << 40) + 1));
  }

  void replacesExistingFileAndLeavesNoTemporary() {
    QTemporaryDir dir;
    const QString csv_path = dir.filePath("report.csv");
    {
      QFile old(csv_path);
      QVERIFY(old.open(QIODevice::WriteOnly));
      old.write("an older, longer report that must disappear entirely\r\n");
    }
    ResultsStore store(dir.filePath("results.db").toStdString());
    store.export_csv(csv_path.toStdString());  // empty database: header only
    QVERIFY(!QFile::exists(csv_path + ".tmp"));
    std::string header;
    for (const std::string& column : nmscope::measurement_columns()) header += (header.empty() ? "" : ",") + column;
    QCOMPARE(read_file(csv_path), header + "\r\n");
  }

  void missingDirectoryIsAnErrorNamingThePath() {
    QTemporaryDir dir;
    ResultsStore store(dir.filePath("results.db").toStdString());
    store.insert(store_test::sample_measurement(0));
    const std::string csv_path = dir.filePath("no/such/dir/report.csv").toStdString();
    try {
      store.export_csv(csv_path);
      QFAIL("export should have failed");
    } catch (const Error& error) {
      QCOMPARE(error.subject(), csv_path);
      QVERIFY2(QString(error.what()).startsWith(QString::fromStdString(csv_path) + ": "), error.what());
    }
    QVERIFY(!QFile::exists(QString::fromStdString(csv_path + ".tmp")));
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::NoDotAndDotDot).filter(".csv").size(), 0);
  }
};

QTEST_APPLESS_MAIN(TestCsvExport)
#include "test_csv_export.moc"
