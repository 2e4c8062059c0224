#include "replay/merkle.h"

#include <algorithm>
#include <bit>

#include <fmt/format.h>

#include "ledger/check.h"

namespace shebao::replay {

using ledger::Code;
using ledger::HexEncode;
using ledger::kMerkleHeightMax;
using ledger::kMerkleProofHashesMax;
using ledger::Status;

namespace {

constexpr uint8_t kLeafPrefix = 0x00;
constexpr uint8_t kNodePrefix = 0x01;

// The split point of RFC 6962: the largest power of two smaller than n.
// REQUIRES: n >= 2.
uint64_t SplitPoint(uint64_t n) {
  SHEBAO_ASSERT(n >= 2);
  return std::bit_floor(n - 1);
}

// Shifts fn and sn right together until fn is odd or zero (RFC 9162 2.1.3.2 step 4.b.ii).
void ShiftToOddOrZero(uint64_t* fn, uint64_t* sn) {
  while (*fn != 0 && (*fn & 1) == 0) {
    *fn >>= 1;
    *sn >>= 1;
  }
}

}  // namespace

// ---- Hashing ----

Hash256 LeafHash(std::string_view entry) {
  ledger::Sha256 hasher;
  hasher.Update(&kLeafPrefix, 1);
  hasher.Update(entry);
  return hasher.Finish();
}

Hash256 NodeHash(const Hash256& left, const Hash256& right) {
  ledger::Sha256 hasher;
  hasher.Update(&kNodePrefix, 1);
  hasher.Update(left.data(), left.size());
  hasher.Update(right.data(), right.size());
  return hasher.Finish();
}

const Hash256& EmptyRoot() {
  static const Hash256 root = [] {
    ledger::Sha256 hasher;
    return hasher.Finish();
  }();
  return root;
}

bool IsTreeNode(uint64_t begin, uint64_t end) {
  if (end <= begin) return false;
  const uint64_t n = end - begin;
  if (n > (uint64_t{1} << 63)) return begin == 0;  // bit_ceil(n) would be 2^64
  return begin % std::bit_ceil(n) == 0;
}

// ---- Compact range ----

MerkleRangeBuilder::MerkleRangeBuilder(unsigned block_level, BlockCallback on_block)
    : block_level_(block_level), on_block_(std::move(on_block)) {
  SHEBAO_ASSERT(block_level < kMerkleHeightMax);
}

void MerkleRangeBuilder::Append(const Hash256& leaf_hash) {
  SHEBAO_ASSERT(size_ < UINT64_MAX);
  SHEBAO_ASSERT(count_ == static_cast<unsigned>(std::popcount(size_)));
  // Leaf size_ completes one perfect subtree per trailing one bit of size_: merge them.
  Hash256 node = leaf_hash;
  unsigned level = 0;
  if (on_block_ && block_level_ == 0) on_block_(size_, node);
  while (((size_ >> level) & 1) != 0) {
    SHEBAO_ASSERT(count_ > 0);
    --count_;
    node = NodeHash(perfect_[count_], node);
    ++level;
    // The node covers [(size_ + 1) - 2^level, size_ + 1): block index size_ >> level.
    if (on_block_ && level == block_level_) on_block_(size_ >> level, node);
  }
  SHEBAO_ASSERT(count_ < kMerkleHeightMax);
  perfect_[count_] = node;
  ++count_;
  ++size_;
}

Hash256 MerkleRangeBuilder::Root() const {
  if (count_ == 0) return EmptyRoot();
  // Fold the perfect subtrees right to left: the right edge of the RFC 6962 tree.
  Hash256 root = perfect_[count_ - 1];
  for (unsigned j = count_ - 1; j > 0; --j) root = NodeHash(perfect_[j - 1], root);
  return root;
}

Hash256 RootOfLeaves(std::span<const Hash256> leaf_hashes) {
  MerkleRangeBuilder builder;
  for (const Hash256& leaf : leaf_hashes) builder.Append(leaf);
  return builder.Root();
}

// ---- Sources ----

Status VectorSubtreeSource::SubtreeHash(uint64_t begin, uint64_t end, Hash256* out) {
  SHEBAO_ASSERT(IsTreeNode(begin, end));
  if (end > leaves_.size()) {
    return Status(Code::invalid_argument,
                  fmt::format("subtree [{}, {}) is beyond the {} leaf hashes held", begin, end,
                              leaves_.size()));
  }
  *out = RootOfLeaves(leaves_.subspan(begin, end - begin));
  return Status::OK();
}

BlockSubtreeSource::BlockSubtreeSource(unsigned block_level, BlockLookup blocks,
                                       LeafLookup leaves)
    : block_level_(block_level), blocks_(std::move(blocks)), leaves_(std::move(leaves)) {
  SHEBAO_ASSERT(block_level < kMerkleHeightMax);
  SHEBAO_ASSERT(blocks_ != nullptr);
  SHEBAO_ASSERT(leaves_ != nullptr);
}

Status BlockSubtreeSource::SubtreeHash(uint64_t begin, uint64_t end, Hash256* out) {
  SHEBAO_ASSERT(IsTreeNode(begin, end));
  const uint64_t block_leaves = uint64_t{1} << block_level_;
  const uint64_t n = end - begin;
  if (n == block_leaves) {
    // A tree node of exactly one block's size is aligned to it: it is a block.
    SHEBAO_ASSERT(begin % block_leaves == 0);
    return blocks_(begin >> block_level_, out);
  }
  if (n > block_leaves) {
    // The children of a tree node are tree nodes; the left one is perfect and >= one block.
    const uint64_t k = SplitPoint(n);
    Hash256 left;
    Hash256 right;
    Status s = SubtreeHash(begin, begin + k, &left);
    if (!s.ok()) return s;
    s = SubtreeHash(begin + k, end, &right);
    if (!s.ok()) return s;
    *out = NodeHash(left, right);
    return Status::OK();
  }
  scratch_.clear();
  Status s = leaves_(begin, end, &scratch_);
  if (!s.ok()) return s;
  SHEBAO_ASSERT(scratch_.size() == n);
  *out = RootOfLeaves(scratch_);
  return Status::OK();
}

// ---- Proof generation ----

Status TreeRoot(uint64_t tree_size, SubtreeSource& source, Hash256* root) {
  if (tree_size == 0) {
    *root = EmptyRoot();
    return Status::OK();
  }
  return source.SubtreeHash(0, tree_size, root);
}

Status InclusionProof(uint64_t leaf_index, uint64_t tree_size, SubtreeSource& source,
                      std::vector<Hash256>* proof) {
  if (leaf_index >= tree_size) {
    return Status(Code::invalid_argument,
                  fmt::format("inclusion proof: leaf index {} is not below tree size {}",
                              leaf_index, tree_size));
  }
  // PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n])     if m < k
  //               = PATH(m - k, D[k:n]) : MTH(D[0:k]) otherwise
  // Walked top-down over absolute ranges, so the siblings come out top first.
  std::vector<Hash256> path;
  uint64_t begin = 0;
  uint64_t end = tree_size;
  while (end - begin > 1) {
    const uint64_t split = begin + SplitPoint(end - begin);
    Hash256 sibling;
    Status s;
    if (leaf_index < split) {
      s = source.SubtreeHash(split, end, &sibling);
      end = split;
    } else {
      s = source.SubtreeHash(begin, split, &sibling);
      begin = split;
    }
    if (!s.ok()) return s;
    path.push_back(sibling);
  }
  SHEBAO_ASSERT(begin == leaf_index);
  SHEBAO_ASSERT(path.size() <= kMerkleProofHashesMax);
  std::reverse(path.begin(), path.end());
  *proof = std::move(path);
  return Status::OK();
}

Status ConsistencyProof(uint64_t old_size, uint64_t new_size, SubtreeSource& source,
                        std::vector<Hash256>* proof) {
  if (old_size > new_size) {
    return Status(Code::invalid_argument,
                  fmt::format("consistency proof: old size {} is above new size {}", old_size,
                              new_size));
  }
  std::vector<Hash256> nodes;
  if (old_size == 0 || old_size == new_size) {
    *proof = std::move(nodes);
    return Status::OK();
  }
  // SUBPROOF(m, D[n], b) = [] if m = n and b; [MTH(D[n])] if m = n and not b;
  //   SUBPROOF(m, D[0:k], b) : MTH(D[k:n])         if m <= k
  //   SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k]) otherwise
  // Walked top-down over absolute ranges [begin, end), old_size being the absolute m.
  uint64_t begin = 0;
  uint64_t end = new_size;
  bool old_node_known = true;  // RFC 6962's b: [begin, end) is a node of the old tree's root path
  while (old_size != end) {
    SHEBAO_ASSERT(begin < old_size && old_size < end);
    const uint64_t split = begin + SplitPoint(end - begin);
    Hash256 node;
    Status s;
    if (old_size <= split) {
      s = source.SubtreeHash(split, end, &node);
      end = split;
    } else {
      s = source.SubtreeHash(begin, split, &node);
      begin = split;
      old_node_known = false;
    }
    if (!s.ok()) return s;
    nodes.push_back(node);
  }
  if (!old_node_known) {
    Hash256 node;
    Status s = source.SubtreeHash(begin, end, &node);
    if (!s.ok()) return s;
    nodes.push_back(node);
  }
  SHEBAO_ASSERT(nodes.size() <= kMerkleProofHashesMax);
  std::reverse(nodes.begin(), nodes.end());
  *proof = std::move(nodes);
  return Status::OK();
}

// ---- Verification ----

Status VerifyInclusion(const Hash256& leaf_hash, uint64_t leaf_index, uint64_t tree_size,
                       std::span<const Hash256> proof, const Hash256& root) {
  if (leaf_index >= tree_size) {
    return Status(Code::invalid_argument,
                  fmt::format("inclusion proof: leaf index {} is not below tree size {}",
                              leaf_index, tree_size));
  }
  if (proof.size() > kMerkleProofHashesMax) {
    return Status(Code::invalid_argument,
                  fmt::format("inclusion proof: {} hashes, more than the limit of {}",
                              proof.size(), kMerkleProofHashesMax));
  }
  uint64_t fn = leaf_index;
  uint64_t sn = tree_size - 1;
  Hash256 r = leaf_hash;
  for (const Hash256& p : proof) {
    if (sn == 0) {
      return Status(Code::corruption,
                    fmt::format("inclusion proof of leaf {} in tree size {}: {} hashes, too "
                                "many for this leaf and size",
                                leaf_index, tree_size, proof.size()));
    }
    if ((fn & 1) != 0 || fn == sn) {
      r = NodeHash(p, r);
      ShiftToOddOrZero(&fn, &sn);
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) {
    return Status(Code::corruption,
                  fmt::format("inclusion proof of leaf {} in tree size {}: {} hashes, too "
                              "few for this leaf and size",
                              leaf_index, tree_size, proof.size()));
  }
  if (r != root) {
    return Status(Code::corruption,
                  fmt::format("inclusion proof of leaf {} in tree size {}: computed root {} "
                              "differs from root {}",
                              leaf_index, tree_size, HexEncode(r), HexEncode(root)));
  }
  return Status::OK();
}

Status VerifyConsistency(uint64_t old_size, uint64_t new_size, const Hash256& old_root,
                         const Hash256& new_root, std::span<const Hash256> proof) {
  if (old_size > new_size) {
    return Status(Code::invalid_argument,
                  fmt::format("consistency proof: old size {} is above new size {}", old_size,
                              new_size));
  }
  if (proof.size() > kMerkleProofHashesMax) {
    return Status(Code::invalid_argument,
                  fmt::format("consistency proof: {} hashes, more than the limit of {}",
                              proof.size(), kMerkleProofHashesMax));
  }
  const std::string sizes = fmt::format("consistency proof {} -> {}", old_size, new_size);
  if (old_size == new_size || old_size == 0) {
    if (!proof.empty()) {
      return Status(Code::corruption, fmt::format("{}: {} hashes, expected none", sizes,
                                                  proof.size()));
    }
    if (old_size == 0 && old_root != EmptyRoot()) {
      return Status(Code::corruption,
                    fmt::format("{}: old root {} is not the empty tree's root", sizes,
                                HexEncode(old_root)));
    }
    if (old_size == new_size && old_root != new_root) {
      return Status(Code::corruption,
                    fmt::format("{}: same size, different roots {} and {}", sizes,
                                HexEncode(old_root), HexEncode(new_root)));
    }
    return Status::OK();
  }
  if (proof.empty()) return Status(Code::corruption, sizes + ": empty proof");

  // RFC 9162 2.1.4.2. When old_size is a power of two the old root is the proof's implicit
  // first node.
  size_t next = 0;
  Hash256 fr;
  if (std::has_single_bit(old_size)) {
    fr = old_root;
  } else {
    fr = proof[0];
    next = 1;
  }
  Hash256 sr = fr;
  uint64_t fn = old_size - 1;
  uint64_t sn = new_size - 1;
  while ((fn & 1) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  for (; next < proof.size(); ++next) {
    const Hash256& c = proof[next];
    if (sn == 0) {
      return Status(Code::corruption,
                    fmt::format("{}: {} hashes, too many for these sizes", sizes, proof.size()));
    }
    if ((fn & 1) != 0 || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      ShiftToOddOrZero(&fn, &sn);
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) {
    return Status(Code::corruption,
                  fmt::format("{}: {} hashes, too few for these sizes", sizes, proof.size()));
  }
  if (fr != old_root) {
    return Status(Code::corruption,
                  fmt::format("{}: computed old root {} differs from old root {}", sizes,
                              HexEncode(fr), HexEncode(old_root)));
  }
  if (sr != new_root) {
    return Status(Code::corruption,
                  fmt::format("{}: computed new root {} differs from new root {}", sizes,
                              HexEncode(sr), HexEncode(new_root)));
  }
  return Status::OK();
}

}  // namespace shebao::replay
