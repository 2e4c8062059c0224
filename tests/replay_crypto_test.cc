// Tests of replay/'s cryptographic core. Merkle: known answers (the empty tree, one leaf, the
// 8-leaf tree of certificate-transparency's merkle_tree_test and transparency-dev/merkle's
// verify_test), the compact range against RFC 6962's recursive definition, every proof of every
// small tree against the RFC's recursive PATH and PROOF, tampered proofs failing, block-backed
// proofs equal to in-memory ones. Ed25519: RFC 8032 known answer, round trips, key files.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "ledger/constants.h"
#include "replay/merkle.h"
#include "replay/signing.h"
#include "tests/test_util.h"

using namespace shebao::replay;
using shebao::ledger::Code;
using shebao::ledger::HexEncode;
using shebao::ledger::Status;
using shebao::testing::TempDir;

namespace {

std::string Unhex(std::string_view hex) {
  REQUIRE(hex.size() % 2 == 0);
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    FAIL("not a hex digit: ", c);
    return 0;
  };
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    out.push_back(static_cast<char>(nibble(hex[i]) * 16 + nibble(hex[i + 1])));
  }
  return out;
}

Hash256 H(std::string_view hex) {
  REQUIRE(hex.size() == 64);
  const std::string bytes = Unhex(hex);
  Hash256 out;
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return out;
}

std::vector<Hash256> Hashes(std::initializer_list<std::string_view> hexes) {
  std::vector<Hash256> out;
  for (std::string_view hex : hexes) out.push_back(H(hex));
  return out;
}

// ---- RFC 6962 section 2.1, transcribed recursively (the reference for everything below) ----

Hash256 RefRoot(std::span<const Hash256> d) {
  if (d.empty()) return EmptyRoot();
  if (d.size() == 1) return d[0];
  const size_t k = std::bit_floor(d.size() - 1);
  return NodeHash(RefRoot(d.first(k)), RefRoot(d.subspan(k)));
}

std::vector<Hash256> RefPath(size_t m, std::span<const Hash256> d) {
  if (d.size() <= 1) return {};
  const size_t k = std::bit_floor(d.size() - 1);
  std::vector<Hash256> path;
  if (m < k) {
    path = RefPath(m, d.first(k));
    path.push_back(RefRoot(d.subspan(k)));
  } else {
    path = RefPath(m - k, d.subspan(k));
    path.push_back(RefRoot(d.first(k)));
  }
  return path;
}

std::vector<Hash256> RefSubproof(size_t m, std::span<const Hash256> d, bool b) {
  if (m == d.size()) return b ? std::vector<Hash256>{} : std::vector<Hash256>{RefRoot(d)};
  const size_t k = std::bit_floor(d.size() - 1);
  std::vector<Hash256> proof;
  if (m <= k) {
    proof = RefSubproof(m, d.first(k), b);
    proof.push_back(RefRoot(d.subspan(k)));
  } else {
    proof = RefSubproof(m - k, d.subspan(k), false);
    proof.push_back(RefRoot(d.first(k)));
  }
  return proof;
}

// Leaf hashes of n distinct entries.
std::vector<Hash256> MakeLeaves(size_t n) {
  std::vector<Hash256> leaves;
  for (size_t i = 0; i < n; ++i) leaves.push_back(LeafHash("entry " + std::to_string(i)));
  return leaves;
}

// The roots of every prefix: roots[n] = MTH(leaves[0:n]).
std::vector<Hash256> PrefixRoots(const std::vector<Hash256>& leaves) {
  std::vector<Hash256> roots;
  for (size_t n = 0; n <= leaves.size(); ++n) {
    roots.push_back(RefRoot(std::span<const Hash256>(leaves).first(n)));
  }
  return roots;
}

std::vector<Hash256> Flipped(std::vector<Hash256> proof, size_t element, size_t byte) {
  proof[element][byte] ^= 0x10;
  return proof;
}

// The certificate-transparency test leaves (merkle_tree_test.cc; transparency-dev/merkle
// proof/verify_test.go) and the roots of their prefixes of 1..8 leaves.
std::vector<std::string> CtEntries() {
  return {Unhex(""),         Unhex("00"),       Unhex("10"),
          Unhex("2021"),     Unhex("3031"),     Unhex("40414243"),
          Unhex("5051525354555657"), Unhex("606162636465666768696a6b6c6d6e6f")};
}
const char* const kCtRoots[8] = {
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Merkle: known answers

TEST_CASE("merkle: the empty tree and a one-leaf tree") {
  CHECK(HexEncode(EmptyRoot()) ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  MerkleRangeBuilder builder;
  CHECK(builder.size() == 0);
  CHECK(builder.Root() == EmptyRoot());
  CHECK(RootOfLeaves({}) == EmptyRoot());

  std::vector<Hash256> none;
  VectorSubtreeSource empty_source(none);
  Hash256 root{};
  REQUIRE(TreeRoot(0, empty_source, &root).ok());
  CHECK(root == EmptyRoot());

  // One leaf: the root is the leaf hash SHA-256(0x00), the inclusion proof is empty.
  const Hash256 leaf = LeafHash("");
  CHECK(HexEncode(leaf) == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
  builder.Append(leaf);
  CHECK(builder.size() == 1);
  CHECK(builder.Root() == leaf);
  std::vector<Hash256> one{leaf};
  VectorSubtreeSource source(one);
  std::vector<Hash256> proof{leaf};
  REQUIRE(InclusionProof(0, 1, source, &proof).ok());
  CHECK(proof.empty());
  CHECK(VerifyInclusion(leaf, 0, 1, proof, leaf).ok());
  CHECK(VerifyInclusion(LeafHash("x"), 0, 1, proof, leaf).code() == Code::corruption);
  CHECK(VerifyInclusion(leaf, 1, 1, proof, leaf).code() == Code::invalid_argument);
  CHECK(VerifyInclusion(leaf, 0, 0, proof, leaf).code() == Code::invalid_argument);
}

TEST_CASE("merkle: certificate-transparency reference roots of 1..8 leaves") {
  MerkleRangeBuilder builder;
  std::vector<Hash256> leaves;
  for (size_t n = 1; n <= 8; ++n) {
    leaves.push_back(LeafHash(CtEntries()[n - 1]));
    builder.Append(leaves.back());
    CAPTURE(n);
    CHECK(HexEncode(builder.Root()) == kCtRoots[n - 1]);
    VectorSubtreeSource source(leaves);
    Hash256 root{};
    REQUIRE(TreeRoot(n, source, &root).ok());
    CHECK(HexEncode(root) == kCtRoots[n - 1]);
  }
}

TEST_CASE("merkle: certificate-transparency reference inclusion proofs") {
  std::vector<Hash256> leaves;
  for (const std::string& entry : CtEntries()) leaves.push_back(LeafHash(entry));
  struct Vector {
    uint64_t index;
    uint64_t size;
    std::vector<Hash256> proof;
  };
  const std::vector<Vector> vectors = {
      {0, 8, Hashes({"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                     "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                     "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"})},
      {5, 8, Hashes({"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                     "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                     "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"})},
      {2, 3, Hashes({"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"})},
      {1, 5, Hashes({"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                     "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                     "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"})},
  };
  VectorSubtreeSource source(leaves);
  for (const Vector& v : vectors) {
    CAPTURE(v.index);
    CAPTURE(v.size);
    std::vector<Hash256> proof;
    REQUIRE(InclusionProof(v.index, v.size, source, &proof).ok());
    CHECK(proof == v.proof);
    const Status s = VerifyInclusion(leaves[v.index], v.index, v.size, v.proof,
                                     H(kCtRoots[v.size - 1]));
    CHECK_MESSAGE(s.ok(), s.ToString());
  }
}

TEST_CASE("merkle: certificate-transparency reference consistency proofs") {
  std::vector<Hash256> leaves;
  for (const std::string& entry : CtEntries()) leaves.push_back(LeafHash(entry));
  struct Vector {
    uint64_t old_size;
    uint64_t new_size;
    std::vector<Hash256> proof;
  };
  const std::vector<Vector> vectors = {
      {1, 1, {}},
      {1, 8, Hashes({"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                     "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                     "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"})},
      {6, 8, Hashes({"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                     "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                     "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"})},
      {2, 5, Hashes({"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                     "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"})},
      {6, 7, Hashes({"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                     "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
                     "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"})},
  };
  VectorSubtreeSource source(leaves);
  for (const Vector& v : vectors) {
    CAPTURE(v.old_size);
    CAPTURE(v.new_size);
    std::vector<Hash256> proof;
    REQUIRE(ConsistencyProof(v.old_size, v.new_size, source, &proof).ok());
    CHECK(proof == v.proof);
    const Status s = VerifyConsistency(v.old_size, v.new_size, H(kCtRoots[v.old_size - 1]),
                                       H(kCtRoots[v.new_size - 1]), v.proof);
    CHECK_MESSAGE(s.ok(), s.ToString());
  }
}

// ---------------------------------------------------------------------------------------------
// Merkle: the compact range

TEST_CASE("merkle: compact range root equals the recursive root at every size 1..300") {
  const std::vector<Hash256> leaves = MakeLeaves(300);
  const std::vector<Hash256> roots = PrefixRoots(leaves);
  MerkleRangeBuilder builder;
  for (size_t n = 1; n <= leaves.size(); ++n) {
    builder.Append(leaves[n - 1]);
    CAPTURE(n);
    REQUIRE(builder.size() == n);
    REQUIRE(builder.Root() == roots[n]);
    // A copy is a snapshot: appending to it leaves the original alone.
    if (n % 37 == 0) {
      MerkleRangeBuilder copy = builder;
      copy.Append(LeafHash("extra"));
      CHECK(builder.Root() == roots[n]);
      CHECK(copy.size() == n + 1);
    }
  }
  CHECK(RootOfLeaves(leaves) == roots[300]);
}

TEST_CASE("merkle: the block callback reports each aligned block once, in order") {
  const std::vector<Hash256> leaves = MakeLeaves(1100);
  for (unsigned level : {0u, 1u, 3u, shebao::ledger::kMerkleBlockLevel}) {
    CAPTURE(level);
    std::vector<std::pair<uint64_t, Hash256>> blocks;
    MerkleRangeBuilder builder(level, [&](uint64_t index, const Hash256& root) {
      blocks.emplace_back(index, root);
    });
    for (const Hash256& leaf : leaves) {
      builder.Append(leaf);
      REQUIRE(blocks.size() == builder.size() >> level);
    }
    const size_t width = size_t{1} << level;
    for (size_t i = 0; i < blocks.size(); ++i) {
      CHECK(blocks[i].first == i);
      CHECK(blocks[i].second == RefRoot(std::span<const Hash256>(leaves).subspan(i * width, width)));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Merkle: every proof of every small tree

TEST_CASE("merkle: every inclusion proof up to size 70 verifies, and fails once changed") {
  constexpr size_t kSizeMax = 70;
  const std::vector<Hash256> leaves = MakeLeaves(2 * kSizeMax + 1);
  const std::vector<Hash256> roots = PrefixRoots(leaves);
  size_t rejected = 0;
  auto must_fail = [&](const Status& s, const char* what) {
    CHECK_MESSAGE(!s.ok(), what);
    ++rejected;
  };
  for (uint64_t n = 1; n <= kSizeMax; ++n) {
    // The source holds exactly n leaves: a request beyond the tree would fail the proof.
    const auto tree = std::span<const Hash256>(leaves).first(n);
    VectorSubtreeSource source(tree);
    const Hash256& root = roots[n];
    for (uint64_t i = 0; i < n; ++i) {
      CAPTURE(n);
      CAPTURE(i);
      std::vector<Hash256> proof;
      REQUIRE(InclusionProof(i, n, source, &proof).ok());
      REQUIRE(proof == RefPath(i, tree));
      CHECK(proof.size() <= static_cast<size_t>(std::bit_width(n - 1)));
      const Status ok = VerifyInclusion(leaves[i], i, n, proof, root);
      REQUIRE_MESSAGE(ok.ok(), ok.ToString());

      // One byte of one proof hash.
      for (size_t e = 0; e < proof.size(); ++e) {
        must_fail(VerifyInclusion(leaves[i], i, n, Flipped(proof, e, (e * 13 + i) % 32), root),
                  "flipped proof byte");
      }
      // The leaf.
      must_fail(VerifyInclusion(leaves[n], i, n, proof, root), "other leaf");
      Hash256 bad_leaf = leaves[i];
      bad_leaf[31] ^= 1;
      must_fail(VerifyInclusion(bad_leaf, i, n, proof, root), "flipped leaf bit");
      // The index.
      for (uint64_t j : {i - 1, i + 1, i ^ 1, i ^ 2, i ^ 4}) {
        if (j < n && j != i) must_fail(VerifyInclusion(leaves[i], j, n, proof, root), "index");
      }
      CHECK(VerifyInclusion(leaves[i], n, n, proof, root).code() == Code::invalid_argument);
      // The size: with the genuine root of the other size, and with this root.
      for (uint64_t m : {n - 1, n + 1, 2 * n}) {
        if (m > i) must_fail(VerifyInclusion(leaves[i], i, m, proof, roots[m]), "size, its root");
      }
      for (uint64_t m : {2 * n, n / 2}) {
        if (m > i) must_fail(VerifyInclusion(leaves[i], i, m, proof, root), "size, same root");
      }
      // The root, and the proof's length.
      must_fail(VerifyInclusion(leaves[i], i, n, proof, roots[n + 1]), "other root");
      if (!proof.empty()) {
        std::vector<Hash256> shorter(proof.begin(), proof.end() - 1);
        must_fail(VerifyInclusion(leaves[i], i, n, shorter, root), "truncated");
      }
      std::vector<Hash256> longer = proof;
      longer.push_back(root);
      must_fail(VerifyInclusion(leaves[i], i, n, longer, root), "trailing hash");
      longer = proof;
      longer.insert(longer.begin(), leaves[i]);
      must_fail(VerifyInclusion(leaves[i], i, n, longer, root), "preceding hash");
    }
  }
  MESSAGE("tampered inclusion proofs rejected: ", rejected);
}

TEST_CASE("merkle: every consistency proof up to size 70 verifies, and fails once changed") {
  constexpr size_t kSizeMax = 70;
  const std::vector<Hash256> leaves = MakeLeaves(2 * kSizeMax + 1);
  const std::vector<Hash256> roots = PrefixRoots(leaves);
  size_t rejected = 0;
  auto must_fail = [&](const Status& s, const char* what) {
    CHECK_MESSAGE(!s.ok(), what);
    ++rejected;
  };
  for (uint64_t n = 1; n <= kSizeMax; ++n) {
    const auto tree = std::span<const Hash256>(leaves).first(n);
    VectorSubtreeSource source(tree);
    for (uint64_t o = 0; o <= n; ++o) {
      CAPTURE(o);
      CAPTURE(n);
      std::vector<Hash256> proof;
      REQUIRE(ConsistencyProof(o, n, source, &proof).ok());
      const Status ok = VerifyConsistency(o, n, roots[o], roots[n], proof);
      REQUIRE_MESSAGE(ok.ok(), ok.ToString());
      if (o == 0 || o == n) {
        CHECK(proof.empty());
        must_fail(VerifyConsistency(o, n, roots[n + 1], roots[n], proof), "old root");
        if (o == n) must_fail(VerifyConsistency(o, n, roots[o], roots[n + 1], proof), "new root");
        continue;
      }
      REQUIRE(proof == RefSubproof(o, tree, true));
      CHECK(proof.size() <= static_cast<size_t>(std::bit_width(n - 1)) + 1);

      for (size_t e = 0; e < proof.size(); ++e) {
        must_fail(VerifyConsistency(o, n, roots[o], roots[n], Flipped(proof, e, (e * 7 + o) % 32)),
                  "flipped proof byte");
      }
      // Sizes, each with the genuine root of the size claimed.
      for (uint64_t p : {o - 1, o + 1, o ^ 2}) {
        if (p <= n && p != o) {
          must_fail(VerifyConsistency(p, n, roots[p], roots[n], proof), "old size");
        }
      }
      for (uint64_t m : {n - 1, n + 1, 2 * n}) {
        if (m >= o) must_fail(VerifyConsistency(o, m, roots[o], roots[m], proof), "new size");
      }
      must_fail(VerifyConsistency(o, n / 2, roots[o], roots[n], proof), "new size halved");
      // Roots.
      must_fail(VerifyConsistency(o, n, roots[n], roots[o], proof), "swapped roots");
      must_fail(VerifyConsistency(o, n, roots[o + 1], roots[n], proof), "old root");
      must_fail(VerifyConsistency(o, n, roots[o], roots[n + 1], proof), "new root");
      // The proof's length.
      must_fail(VerifyConsistency(o, n, roots[o], roots[n], {}), "empty proof");
      std::vector<Hash256> shorter(proof.begin(), proof.end() - 1);
      must_fail(VerifyConsistency(o, n, roots[o], roots[n], shorter), "truncated");
      std::vector<Hash256> longer = proof;
      longer.push_back(roots[n]);
      must_fail(VerifyConsistency(o, n, roots[o], roots[n], longer), "trailing hash");
      longer = proof;
      longer.insert(longer.begin(), roots[o]);
      must_fail(VerifyConsistency(o, n, roots[o], roots[n], longer), "preceding old root");
    }
    CHECK(VerifyConsistency(n + 1, n, roots[n + 1], roots[n], {}).code() ==
          Code::invalid_argument);
  }
  MESSAGE("tampered consistency proofs rejected: ", rejected);
}

TEST_CASE("merkle: impossible requests are errors, not proofs") {
  const std::vector<Hash256> leaves = MakeLeaves(4);
  VectorSubtreeSource source(leaves);
  std::vector<Hash256> proof;
  CHECK(InclusionProof(4, 4, source, &proof).code() == Code::invalid_argument);
  CHECK(ConsistencyProof(5, 4, source, &proof).code() == Code::invalid_argument);
  // The source holds 4 leaves; a tree of 8 needs more.
  const Status s = InclusionProof(0, 8, source, &proof);
  CHECK(s.code() == Code::invalid_argument);
  CHECK(s.message().find("beyond the 4 leaf hashes") != std::string::npos);
  Hash256 root{};
  CHECK(TreeRoot(5, source, &root).code() == Code::invalid_argument);

  const std::vector<Hash256> too_long(shebao::ledger::kMerkleProofHashesMax + 1, leaves[0]);
  CHECK(VerifyInclusion(leaves[0], 0, 4, too_long, root).code() == Code::invalid_argument);
  CHECK(VerifyConsistency(1, 4, root, root, too_long).code() == Code::invalid_argument);
  // The empty tree: consistent with anything, through an empty proof only.
  CHECK(VerifyConsistency(0, 4, EmptyRoot(), root, {}).ok());
  CHECK(VerifyConsistency(0, 4, root, root, {}).code() == Code::corruption);
  CHECK(VerifyConsistency(0, 0, EmptyRoot(), EmptyRoot(), {}).ok());

  CHECK(IsTreeNode(0, 1));
  CHECK(IsTreeNode(1, 2));
  CHECK(IsTreeNode(2, 4));
  CHECK(IsTreeNode(4, 7));  // ragged right edge of a tree of 7
  CHECK(IsTreeNode(0, UINT64_MAX));
  CHECK_FALSE(IsTreeNode(0, 0));
  CHECK_FALSE(IsTreeNode(3, 2));
  CHECK_FALSE(IsTreeNode(1, 3));
  CHECK_FALSE(IsTreeNode(2, 5));
  CHECK_FALSE(IsTreeNode(1, UINT64_MAX));
}

// ---------------------------------------------------------------------------------------------
// Merkle: proofs from persisted block roots

namespace {

// Serves block roots collected by a MerkleRangeBuilder's callback and leaf hashes from memory,
// checking that proof generation for a tree of `size` leaves never asks for anything outside it
// and counting what it reads.
struct BlockStore {
  unsigned level = 0;
  std::vector<Hash256> leaves;
  std::vector<Hash256> blocks;
  uint64_t size = 0;  // the tree being proven
  uint64_t block_reads = 0;
  uint64_t leaf_reads = 0;
  uint64_t leaves_read = 0;

  BlockSubtreeSource Source() {
    return BlockSubtreeSource(
        level,
        [this](uint64_t index, Hash256* out) {
          REQUIRE(((index + 1) << level) <= size);
          REQUIRE(index < blocks.size());
          ++block_reads;
          *out = blocks[index];
          return Status::OK();
        },
        [this](uint64_t begin, uint64_t end, std::vector<Hash256>* out) {
          REQUIRE(begin < end);
          REQUIRE(end <= size);
          REQUIRE(end - begin < (uint64_t{1} << level));
          ++leaf_reads;
          leaves_read += end - begin;
          out->assign(leaves.begin() + static_cast<ptrdiff_t>(begin),
                      leaves.begin() + static_cast<ptrdiff_t>(end));
          return Status::OK();
        });
  }
};

BlockStore MakeBlockStore(unsigned level, size_t n) {
  BlockStore store;
  store.level = level;
  store.leaves = MakeLeaves(n);
  MerkleRangeBuilder builder(level, [&](uint64_t index, const Hash256& root) {
    REQUIRE(index == store.blocks.size());
    store.blocks.push_back(root);
  });
  for (const Hash256& leaf : store.leaves) builder.Append(leaf);
  return store;
}

}  // namespace

TEST_CASE("merkle: block-backed proofs equal in-memory proofs (blocks of 4, every proof)") {
  BlockStore store = MakeBlockStore(2, 70);
  BlockSubtreeSource blocks = store.Source();
  for (uint64_t n = 1; n <= 70; ++n) {
    CAPTURE(n);
    store.size = n;
    VectorSubtreeSource memory(std::span<const Hash256>(store.leaves).first(n));
    Hash256 a{};
    Hash256 b{};
    REQUIRE(TreeRoot(n, blocks, &a).ok());
    REQUIRE(TreeRoot(n, memory, &b).ok());
    CHECK(a == b);
    for (uint64_t i = 0; i < n; ++i) {
      std::vector<Hash256> pa;
      std::vector<Hash256> pb;
      REQUIRE(InclusionProof(i, n, blocks, &pa).ok());
      REQUIRE(InclusionProof(i, n, memory, &pb).ok());
      CHECK(pa == pb);
    }
    for (uint64_t o = 0; o <= n; ++o) {
      std::vector<Hash256> pa;
      std::vector<Hash256> pb;
      REQUIRE(ConsistencyProof(o, n, blocks, &pa).ok());
      REQUIRE(ConsistencyProof(o, n, memory, &pb).ok());
      CHECK(pa == pb);
    }
  }
}

TEST_CASE("merkle: block-backed proofs with kMerkleBlockLevel read at most two blocks of leaves") {
  constexpr unsigned kLevel = shebao::ledger::kMerkleBlockLevel;
  constexpr uint64_t kBlock = shebao::ledger::kMerkleBlockLeaves;
  BlockStore store = MakeBlockStore(kLevel, 4 * kBlock + 300);
  BlockSubtreeSource blocks = store.Source();
  MerkleRangeBuilder builder;  // the roots the checkpoints would hold
  std::vector<Hash256> roots{builder.Root()};
  for (const Hash256& leaf : store.leaves) {
    builder.Append(leaf);
    roots.push_back(builder.Root());
  }
  const uint64_t total = store.leaves.size();
  const std::vector<uint64_t> sizes = {1,          kBlock - 1, kBlock,    kBlock + 1,
                                       2 * kBlock, 3 * kBlock - 5, 4 * kBlock, total};
  for (uint64_t n : sizes) {
    CAPTURE(n);
    store.size = n;
    VectorSubtreeSource memory(std::span<const Hash256>(store.leaves).first(n));
    for (uint64_t i : {uint64_t{0}, uint64_t{1}, kBlock - 1, kBlock, n / 2, n - 1}) {
      if (i >= n) continue;
      CAPTURE(i);
      std::vector<Hash256> pa;
      std::vector<Hash256> pb;
      store.leaves_read = 0;
      REQUIRE(InclusionProof(i, n, blocks, &pa).ok());
      CHECK(store.leaves_read <= 2 * kBlock);
      REQUIRE(InclusionProof(i, n, memory, &pb).ok());
      CHECK(pa == pb);
      CHECK(VerifyInclusion(store.leaves[i], i, n, pa, roots[n]).ok());
    }
    for (uint64_t o : {uint64_t{1}, kBlock - 1, kBlock, kBlock + 7, n - 1}) {
      if (o == 0 || o > n) continue;
      CAPTURE(o);
      std::vector<Hash256> pa;
      std::vector<Hash256> pb;
      store.leaves_read = 0;
      REQUIRE(ConsistencyProof(o, n, blocks, &pa).ok());
      CHECK(store.leaves_read <= 2 * kBlock);
      REQUIRE(ConsistencyProof(o, n, memory, &pb).ok());
      CHECK(pa == pb);
      CHECK(VerifyConsistency(o, n, roots[o], roots[n], pa).ok());
    }
  }
  CHECK(store.block_reads > 0);
}

TEST_CASE("merkle: a failing lookup's error comes back unchanged") {
  const std::vector<Hash256> leaves = MakeLeaves(600);
  BlockSubtreeSource failing_blocks(
      2, [](uint64_t, Hash256*) { return Status(Code::io_error, "block store unreadable"); },
      [&](uint64_t begin, uint64_t end, std::vector<Hash256>* out) {
        out->assign(leaves.begin() + static_cast<ptrdiff_t>(begin),
                    leaves.begin() + static_cast<ptrdiff_t>(end));
        return Status::OK();
      });
  std::vector<Hash256> proof;
  Status s = InclusionProof(0, 600, failing_blocks, &proof);
  CHECK(s.code() == Code::io_error);
  CHECK(s.message() == "block store unreadable");
  BlockSubtreeSource failing_leaves(
      2,
      [](uint64_t, Hash256* out) {
        *out = EmptyRoot();
        return Status::OK();
      },
      [](uint64_t, uint64_t, std::vector<Hash256>*) {
        return Status(Code::corruption, "event 7 fails verification");
      });
  s = ConsistencyProof(3, 7, failing_leaves, &proof);
  CHECK(s.code() == Code::corruption);
  CHECK(s.message() == "event 7 fails verification");
}

// ---------------------------------------------------------------------------------------------
// Ed25519

namespace {

// RFC 8032 section 7.1, TEST 2: the secret key as PKCS#8, its public key, message 0x72.
constexpr std::string_view kRfc8032PrivatePem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIEzNCJso/5banbbDRuwRTg9bijGfNaumJNqM9u1PuKb7\n"
    "-----END PRIVATE KEY-----\n";
constexpr std::string_view kRfc8032PublicPem =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEAPUAXw+hDiVqStwqnTRt+vJyYLM8uxJaMwM1V8Sr0Zgw=\n"
    "-----END PUBLIC KEY-----\n";
constexpr std::string_view kRfc8032Public =
    "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";
constexpr std::string_view kRfc8032Signature =
    "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
    "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00";
// A P-256 key: a well-formed PEM key that is not Ed25519.
constexpr std::string_view kP256PrivatePem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg8uk8SjNDjqCPnu5Z\n"
    "oC69JKFbw7t6YJiMxc7Dui5Nap2hRANCAAQPT05jrfxDG4XRhLH/kZ3CGGxx4xBi\n"
    "XxhpRKYsdDD+p0QHb1a2erN9U7ycBcIv0SPGbeQo9tRvrUCvJeRAQxrM\n"
    "-----END PRIVATE KEY-----\n";
constexpr std::string_view kP256PublicPem =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAED09OY638QxuF0YSx/5GdwhhsceMQ\n"
    "Yl8YaUSmLHQw/qdEB29WtnqzfVO8nAXCL9Ejxm3kKPbUb61AryXkQEMazA==\n"
    "-----END PUBLIC KEY-----\n";

void WriteFile(const std::string& path, std::string_view contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
  REQUIRE(out.good());
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

mode_t FileMode(const std::string& path) {
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

Signature ToSignature(std::string_view hex) {
  const std::string bytes = Unhex(hex);
  REQUIRE(bytes.size() == shebao::ledger::kEd25519SignatureBytes);
  Signature out;
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return out;
}

bool Contains(const Status& s, std::string_view text) {
  return s.message().find(text) != std::string::npos;
}

}  // namespace

TEST_CASE("signing: RFC 8032 test 2 known answer, through PEM files") {
  TempDir dir("replay-keys");
  WriteFile(dir.sub("rfc.key"), kRfc8032PrivatePem);
  WriteFile(dir.sub("rfc.pub"), kRfc8032PublicPem);
  PrivateKey key;
  Status s = PrivateKey::Load(dir.sub("rfc.key"), &key);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  PublicKey pub;
  s = PublicKey::Load(dir.sub("rfc.pub"), &pub);
  REQUIRE_MESSAGE(s.ok(), s.ToString());

  const PublicKeyBytes raw = pub.Raw();
  CHECK(HexEncode(raw.data(), raw.size()) == kRfc8032Public);
  CHECK(key.public_key().Raw() == raw);
  // The key id: the first 8 bytes of SHA-256 of the raw public key.
  CHECK(pub.KeyId() == "39f713d0a644253f");
  CHECK(pub.ToPem() == kRfc8032PublicPem);

  const Signature sig = key.Sign("\x72");
  CHECK(HexEncode(sig.data(), sig.size()) == kRfc8032Signature);
  CHECK(pub.Verify("\x72", ToSignature(kRfc8032Signature)).ok());

  PublicKey from_raw;
  REQUIRE(PublicKey::FromRaw(raw, &from_raw).ok());
  CHECK(from_raw.Verify("\x72", sig).ok());
}

TEST_CASE("signing: sign and verify round trip, and a changed bit or another key fails") {
  PrivateKey key;
  REQUIRE(PrivateKey::Generate(&key).ok());
  PrivateKey other;
  REQUIRE(PrivateKey::Generate(&other).ok());
  const PublicKey pub = key.public_key();
  CHECK(pub.Raw() != other.public_key().Raw());
  CHECK(pub.KeyId().size() == 2 * shebao::ledger::kKeyIdBytes);

  const std::string message = "shebao-checkpoint/1 size=4242 root=" + HexEncode(EmptyRoot());
  const Signature sig = key.Sign(message);
  CHECK(key.Sign(message) == sig);  // Ed25519 is deterministic
  const Status ok = pub.Verify(message, sig);
  CHECK_MESSAGE(ok.ok(), ok.ToString());
  CHECK(pub.Verify("", key.Sign("")).ok());

  for (size_t bit = 0; bit < 8 * message.size(); bit += 29) {
    std::string changed = message;
    changed[bit / 8] = static_cast<char>(changed[bit / 8] ^ (1 << (bit % 8)));
    CHECK(pub.Verify(changed, sig).code() == Code::corruption);
  }
  for (size_t bit = 0; bit < 8 * sig.size(); bit += 7) {
    Signature changed = sig;
    changed[bit / 8] = static_cast<uint8_t>(changed[bit / 8] ^ (1 << (bit % 8)));
    CHECK(pub.Verify(message, changed).code() == Code::corruption);
  }
  const Status wrong = other.public_key().Verify(message, sig);
  CHECK(wrong.code() == Code::corruption);
  CHECK(Contains(wrong, other.public_key().KeyId()));
  CHECK(pub.Verify(message + "x", sig).code() == Code::corruption);
}

TEST_CASE("signing: key pair files, mode 0600, never overwritten") {
  TempDir dir("replay-keys");
  const std::string priv = dir.sub("ledger.key");
  const std::string pub = dir.sub("ledger.pub");
  const mode_t old_umask = ::umask(0222);  // would make the private key 0400 without fchmod
  PrivateKey key;
  const Status s = GenerateKeyPair(priv, pub, &key);
  ::umask(old_umask);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  REQUIRE(key.valid());
  CHECK(FileMode(priv) == 0600);
  const std::string priv_pem = ReadFile(priv);
  const std::string pub_pem = ReadFile(pub);
  CHECK(priv_pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
  CHECK(pub_pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));

  PrivateKey loaded;
  REQUIRE(PrivateKey::Load(priv, &loaded).ok());
  PublicKey loaded_pub;
  REQUIRE(PublicKey::Load(pub, &loaded_pub).ok());
  CHECK(loaded_pub.Raw() == key.public_key().Raw());
  CHECK(loaded.public_key().Raw() == key.public_key().Raw());
  CHECK(loaded_pub.Verify("checkpoint", loaded.Sign("checkpoint")).ok());

  // Either file existing: refused before anything is written.
  Status again = GenerateKeyPair(priv, pub, nullptr);
  CHECK(again.code() == Code::invalid_argument);
  CHECK(Contains(again, "refusing to overwrite"));
  CHECK(Contains(again, priv));
  again = GenerateKeyPair(dir.sub("new.key"), pub, nullptr);
  CHECK(again.code() == Code::invalid_argument);
  CHECK(Contains(again, pub));
  CHECK_FALSE(std::filesystem::exists(dir.sub("new.key")));
  again = GenerateKeyPair(priv, dir.sub("new.pub"), nullptr);
  CHECK(again.code() == Code::invalid_argument);
  CHECK_FALSE(std::filesystem::exists(dir.sub("new.pub")));
  CHECK(ReadFile(priv) == priv_pem);
  CHECK(ReadFile(pub) == pub_pem);
  CHECK(key.Write(priv).code() == Code::invalid_argument);
  CHECK(key.public_key().Write(pub).code() == Code::invalid_argument);
  CHECK(ReadFile(priv) == priv_pem);
  CHECK(GenerateKeyPair(dir.sub("same"), dir.sub("same"), nullptr).code() ==
        Code::invalid_argument);
  // A directory that does not exist: io_error, and no private key left behind.
  const Status missing_dir = GenerateKeyPair(dir.sub("a.key"), dir.sub("nodir/a.pub"), nullptr);
  CHECK(missing_dir.code() == Code::io_error);
  CHECK_FALSE(std::filesystem::exists(dir.sub("a.key")));
}

TEST_CASE("signing: loading errors name the file and the reason") {
  TempDir dir("replay-keys");
  PrivateKey key;
  PublicKey pub;

  const std::string missing = dir.sub("missing.key");
  Status s = PrivateKey::Load(missing, &key);
  CHECK(s.code() == Code::not_found);
  CHECK(Contains(s, missing));
  CHECK(PublicKey::Load(missing, &pub).code() == Code::not_found);

  const std::string garbage = dir.sub("garbage.key");
  WriteFile(garbage, "this is not a key\n");
  s = PrivateKey::Load(garbage, &key);
  CHECK(s.code() == Code::invalid_argument);
  CHECK(Contains(s, garbage));
  CHECK(Contains(s, "not an unencrypted PEM private key"));
  s = PublicKey::Load(garbage, &pub);
  CHECK(s.code() == Code::invalid_argument);
  CHECK(Contains(s, "not a PEM public key"));

  // The right kind of PEM, the wrong kind of key; and the two halves swapped.
  const std::string p256_key = dir.sub("p256.key");
  const std::string p256_pub = dir.sub("p256.pub");
  WriteFile(p256_key, kP256PrivatePem);
  WriteFile(p256_pub, kP256PublicPem);
  s = PrivateKey::Load(p256_key, &key);
  CHECK(s.code() == Code::invalid_argument);
  CHECK(Contains(s, "not Ed25519"));
  s = PublicKey::Load(p256_pub, &pub);
  CHECK(s.code() == Code::invalid_argument);
  CHECK(Contains(s, "not Ed25519"));
  const std::string rfc_key = dir.sub("rfc.key");
  const std::string rfc_pub = dir.sub("rfc.pub");
  WriteFile(rfc_key, kRfc8032PrivatePem);
  WriteFile(rfc_pub, kRfc8032PublicPem);
  CHECK(PrivateKey::Load(rfc_pub, &key).code() == Code::invalid_argument);
  CHECK(PublicKey::Load(rfc_key, &pub).code() == Code::invalid_argument);
  CHECK_FALSE(key.valid());
  CHECK_FALSE(pub.valid());

  // Too large, a directory, unreadable.
  const std::string big = dir.sub("big.key");
  WriteFile(big, std::string(shebao::ledger::kKeyFileBytesMax + 1, 'A'));
  s = PrivateKey::Load(big, &key);
  CHECK(s.code() == Code::invalid_argument);
  CHECK(Contains(s, "larger than"));
  s = PrivateKey::Load(dir.path(), &key);
  CHECK(s.code() == Code::io_error);
  CHECK(Contains(s, dir.path()));
  if (::geteuid() != 0) {  // root reads anything
    REQUIRE(::chmod(rfc_key.c_str(), 0) == 0);
    s = PrivateKey::Load(rfc_key, &key);
    CHECK(s.code() == Code::io_error);
    CHECK(Contains(s, rfc_key));
  }
}

TEST_CASE("signing: keys own their EVP_PKEY: movable, not copyable") {
  static_assert(!std::is_copy_constructible_v<PrivateKey>);
  static_assert(!std::is_copy_assignable_v<PrivateKey>);
  static_assert(!std::is_copy_constructible_v<PublicKey>);
  static_assert(std::is_nothrow_move_constructible_v<PrivateKey>);
  static_assert(std::is_nothrow_move_constructible_v<PublicKey>);
  PrivateKey key;
  CHECK_FALSE(key.valid());
  REQUIRE(PrivateKey::Generate(&key).ok());
  const PublicKeyBytes raw = key.public_key().Raw();
  PrivateKey moved = std::move(key);
  CHECK_FALSE(key.valid());  // NOLINT(bugprone-use-after-move): moved-from is empty
  CHECK(moved.valid());
  CHECK(moved.public_key().Raw() == raw);
  PublicKey pub = moved.public_key();
  PublicKey pub2;
  pub2 = std::move(pub);
  CHECK(pub2.Verify("m", moved.Sign("m")).ok());
}
