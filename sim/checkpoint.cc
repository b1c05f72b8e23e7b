#include "sim/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sim/partition.h"
#include "sim/system_graph.h"

namespace wafersim {
namespace {

constexpr char kMagic[8] = {'W', 'S', 'C', 'K', 'P', 'T', '\r', '\n'};
constexpr size_t kHeaderBytes = sizeof kMagic + 4 + 8;  // magic, version, body length
constexpr size_t kTrailerBytes = 8;                     // checksum

std::string readWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  WAFERSIM_REQUIRE(in, "checkpoint ", path, ": cannot open");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Removes every cut folder (t<ps>) of checkpointsDir but `keep`.
void removeCutsExcept(const std::string& checkpointsDir, const std::string& keep) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(checkpointsDir, ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_directory() && name.size() > 1 && name[0] == 't' && name != keep)
      std::filesystem::remove_all(entry.path(), ec);
  }
}

uint64_t hashText(uint64_t h, std::string_view s) {
  h = mixHash(h, s.size());
  for (unsigned char c : s) h = mixHash(h, c);
  return h;
}

}  // namespace

bool StateReader::boolean() {
  const uint8_t v = u8();
  if (v > 1) corrupt("a boolean holds " + std::to_string(v));
  return v == 1;
}

std::string StateReader::text() { return std::string(bytes()); }

std::string_view StateReader::bytes() {
  const uint64_t n = count(1);
  std::string_view v = data_.substr(pos_, n);
  pos_ += n;
  return v;
}

uint64_t StateReader::count(size_t itemBytes) {
  const uint64_t n = u64();
  if (itemBytes > 0 && n > left() / itemBytes)
    corrupt("truncated: " + std::to_string(n) + " items of " + std::to_string(itemBytes) + " bytes announced, " +
            std::to_string(left()) + " bytes left");
  return n;
}

void StateReader::raw(void* out, size_t n) {
  if (n > left())
    corrupt("truncated: " + std::to_string(n) + " bytes needed at byte " + std::to_string(pos_) + ", " +
            std::to_string(left()) + " left");
  if (n > 0) std::memcpy(out, data_.data() + pos_, n);
  pos_ += n;
}

void StateReader::expectEnd() const {
  if (left() != 0) corrupt(std::to_string(left()) + " bytes left over after the last field");
}

void StateReader::corrupt(const std::string& message) const { fail(ErrorKind::InvalidConfig, what_, ": ", message); }

uint64_t checksum64(std::string_view bytes) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (unsigned char c : bytes) h = (h ^ c) * 0x100000001B3ull;
  return mixHash(h, bytes.size());
}

uint64_t systemFingerprint(const SystemGraph& graph, uint64_t seed, uint64_t extra) {
  uint64_t h = mixHash(seed, extra);
  for (const ComponentSpec& c : graph.components()) {
    h = hashText(mixHash(h, c.id), c.name);
    h = hashText(h, c.type);
    for (const auto& [key, value] : c.params.values()) h = hashText(hashText(h, key), value);
  }
  for (const LinkSpec& l : graph.links()) {
    h = hashText(mixHash(h, l.a), l.portA);
    h = hashText(mixHash(h, l.b), l.portB);
    h = mixHash(mixHash(h, static_cast<uint64_t>(l.latencyAB.ps())), static_cast<uint64_t>(l.latencyBA.ps()));
  }
  for (const FabricSpec& f : graph.fabrics()) {
    h = hashText(hashText(h, f.name), f.port);
    for (ComponentId m : f.members) h = mixHash(h, m);
    h = mixHash(h, static_cast<uint64_t>(f.latency.ps()));
  }
  return h;
}

std::string encodeCheckpointPart(const CheckpointPart& part) {
  StateWriter body;
  body.u64(part.fingerprint);
  body.time(part.time);
  body.time(part.lastEventTime);
  body.u32(part.partition);
  body.u32(part.partitions);
  body.u64(part.window);
  body.u64(part.components.size());
  for (const ComponentCheckpoint& c : part.components) {
    body.u32(c.id);
    body.text(c.type);
    body.u64(c.nextSeq);
    body.time(c.promise);
    for (uint64_t w : c.random) body.u64(w);
    body.u64(c.eventDigest);
    body.u64(c.eventsCommitted);
    body.bytes(c.stats);
    body.bytes(c.state);
  }
  body.podVector(part.events);
  return wrapCheckpointBody(body.data());
}

std::string wrapCheckpointBody(std::string_view body) {
  StateWriter file;
  file.raw(kMagic, sizeof kMagic);
  file.u32(kCheckpointFormat);
  file.u64(body.size());
  file.raw(body.data(), body.size());
  file.u64(checksum64(body));
  return file.take();
}

CheckpointPart decodeCheckpointPart(std::string_view bytes, const std::string& what) {
  StateReader head(bytes, what);
  if (bytes.size() < kHeaderBytes + kTrailerBytes)
    head.corrupt("not a checkpoint: " + std::to_string(bytes.size()) + " bytes, shorter than any checkpoint");
  char magic[sizeof kMagic];
  head.raw(magic, sizeof magic);
  if (std::memcmp(magic, kMagic, sizeof kMagic) != 0) head.corrupt("not a checkpoint (its first bytes are not WSCKPT)");
  const uint32_t version = head.u32();
  if (version != kCheckpointFormat)
    head.corrupt("checkpoint format " + std::to_string(version) + ", this wafersim reads format " +
                 std::to_string(kCheckpointFormat));
  const uint64_t length = head.u64();
  if (length != bytes.size() - kHeaderBytes - kTrailerBytes)
    head.corrupt("truncated or extended: the header announces " + std::to_string(length) + " bytes of body, the file has " +
                 std::to_string(bytes.size() - kHeaderBytes - kTrailerBytes));
  const std::string_view bodyBytes = bytes.substr(kHeaderBytes, length);
  uint64_t stored;
  std::memcpy(&stored, bytes.data() + kHeaderBytes + length, sizeof stored);
  if (stored != checksum64(bodyBytes)) head.corrupt("checksum mismatch: the file is corrupt");

  StateReader in(bodyBytes, what);
  CheckpointPart part;
  part.fingerprint = in.u64();
  part.time = in.time();
  part.lastEventTime = in.time();
  part.partition = in.u32();
  part.partitions = in.u32();
  if (part.partitions == 0 || part.partition >= part.partitions)
    in.corrupt("partition " + std::to_string(part.partition) + " of " + std::to_string(part.partitions));
  part.window = in.u64();
  // The smallest component record: id, empty type, seq, promise, 4 random words, digest, count, two empty blobs.
  const uint64_t components = in.count(4 + 8 + 8 + 8 + 32 + 8 + 8 + 8 + 8);
  part.components.resize(components);
  for (ComponentCheckpoint& c : part.components) {
    c.id = in.u32();
    c.type = in.text();
    c.nextSeq = in.u64();
    c.promise = in.time();
    for (uint64_t& w : c.random) w = in.u64();
    c.eventDigest = in.u64();
    c.eventsCommitted = in.u64();
    c.stats = std::string(in.bytes());
    c.state = std::string(in.bytes());
  }
  part.events = in.podVector<Event>();
  in.expectEnd();
  return part;
}

void writeFileAtomically(const std::string& path, std::string_view bytes) {
  // A temporary name of this writer's own: two processes may replace the same file at once (two
  // nodes committing one cut), and each rename must find its own file.
  static std::atomic<uint64_t> serial{0};
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(serial++);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(ErrorKind::InvalidConfig, "cannot write ", tmp, ": ", std::strerror(errno));
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      fail(ErrorKind::InvalidConfig, "cannot write ", tmp, ": ", std::strerror(err));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) fail(ErrorKind::InvalidConfig, "cannot sync ", tmp, ": ", std::strerror(errno));
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    fail(ErrorKind::InvalidConfig, "cannot rename ", tmp, " to ", path, ": ", std::strerror(errno));
  const std::string folder = std::filesystem::path(path).parent_path().string();
  const int dir = ::open(folder.empty() ? "." : folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);  // the rename itself is durable
    ::close(dir);
  }
}

std::string checkpointPartName(SimTime time, PartitionId partition) {
  return "t" + std::to_string(time.ps()) + "/part-" + std::to_string(partition);
}

SimTime nextCheckpointAfter(SimTime t, Duration every) {
  const int64_t e = every.ps();
  return SimTime::fromPs((t.ps() / e + 1) * e);
}

void commitCheckpoint(const std::string& checkpointsDir, SimTime time, uint32_t parts) {
  writeFileAtomically(checkpointsDir + "/latest", std::to_string(time.ps()) + " " + std::to_string(parts) + "\n");
  removeCutsExcept(checkpointsDir, "t" + std::to_string(time.ps()));
}

bool commitIfComplete(const std::string& checkpointsDir, SimTime time, uint32_t parts) {
  for (uint32_t k = 0; k < parts; ++k)
    if (!std::filesystem::exists(checkpointsDir + "/" + checkpointPartName(time, k))) return false;
  commitCheckpoint(checkpointsDir, time, parts);
  return true;
}

void removeUncommittedCuts(const std::string& checkpointsDir) {
  std::string keep;
  if (std::ifstream latest(checkpointsDir + "/latest"); latest) {
    int64_t timePs = -1;
    if (latest >> timePs) keep = "t" + std::to_string(timePs);
  }
  removeCutsExcept(checkpointsDir, keep);
}

CheckpointImage loadLatestCheckpoint(const std::string& checkpointsDir) {
  const std::string latestPath = checkpointsDir + "/latest";
  WAFERSIM_REQUIRE(std::filesystem::exists(latestPath), checkpointsDir,
                   ": no checkpoint to resume from (no committed cut: the file 'latest' is missing)");
  std::istringstream latest(readWholeFile(latestPath));
  int64_t timePs = -1;
  uint32_t parts = 0;
  WAFERSIM_REQUIRE(latest >> timePs >> parts && timePs >= 0 && parts > 0, latestPath,
                   ": expected \"<time in ps> <parts>\"");
  CheckpointImage image;
  image.time = SimTime::fromPs(timePs);
  image.partitions = parts;
  image.folder = checkpointsDir + "/t" + std::to_string(timePs);
  image.lastEventTime = SimTime::zero();
  for (uint32_t k = 0; k < parts; ++k) {
    const std::string path = checkpointsDir + "/" + checkpointPartName(image.time, k);
    WAFERSIM_REQUIRE(std::filesystem::exists(path), path, ": part ", k, " of the checkpoint at ",
                     toString(image.time), " is missing");
    const std::string bytes = readWholeFile(path);
    image.bytes += bytes.size();
    CheckpointPart part = decodeCheckpointPart(bytes, path);
    WAFERSIM_REQUIRE(part.time == image.time && part.partition == k && part.partitions == parts, path,
                     ": part ", part.partition, " of ", part.partitions, " at ", toString(part.time),
                     ", expected part ", k, " of ", parts, " at ", toString(image.time));
    if (k == 0) image.fingerprint = part.fingerprint;
    WAFERSIM_REQUIRE(part.fingerprint == image.fingerprint, path, ": belongs to another system than part 0");
    image.lastEventTime = max(image.lastEventTime, part.lastEventTime);
    for (ComponentCheckpoint& c : part.components) {
      const ComponentId id = c.id;
      WAFERSIM_REQUIRE(image.components.emplace(id, std::move(c)).second, path, ": component ", id,
                       " is also in another part");
    }
    for (const Event& e : part.events)
      WAFERSIM_REQUIRE(e.time >= image.time, path, ": a pending event at ", toString(e.time), " before the cut at ",
                       toString(image.time));
    image.events.insert(image.events.end(), part.events.begin(), part.events.end());
  }
  std::sort(image.events.begin(), image.events.end(), [](const Event& a, const Event& b) { return before(a, b); });
  return image;
}

}  // namespace wafersim
