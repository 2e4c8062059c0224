// An RFC 6962 (Certificate Transparency) Merkle tree over the log: hashing, a compact range that
// grows one leaf at a time, proof generation, and proof verification (RFC 9162 2.1.3.2, 2.1.4.2).
//
// The entries are the stored event bytes in log order: entry i is the event at position i + 1.
//   LeafHash(d)    = SHA-256(0x00 || d)
//   NodeHash(l, r) = SHA-256(0x01 || l || r)
//   MTH({})        = SHA-256("")
//   MTH(D[n])      = NodeHash(MTH(D[0:k]), MTH(D[k:n])), k the largest power of two < n
//
// Contract
// - Everything here is a pure function of its arguments except the SubtreeSource callbacks;
//   nothing reads the event store. Errors are Status values; misuse (a violated REQUIRES)
//   aborts through SHEBAO_ASSERT.
// - A "tree node" range [begin, end) is one the RFC 6962 recursion produces for some tree
//   size: 0 < end - begin, and begin is a multiple of bit_ceil(end - begin). It is either a
//   perfect subtree (end - begin a power of two) or the ragged right edge of a tree ending at
//   end. Proof generation asks its SubtreeSource for tree nodes only.
// - Proofs are listed bottom-up, as RFC 6962 PATH and PROOF produce them.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "ledger/constants.h"
#include "ledger/sha256.h"
#include "ledger/status.h"

namespace shebao::replay {

using ledger::Hash256;

// ---- Hashing ----

// SHA-256(0x00 || entry).
Hash256 LeafHash(std::string_view entry);
// SHA-256(0x01 || left || right).
Hash256 NodeHash(const Hash256& left, const Hash256& right);
// The root of the empty tree: SHA-256("") = e3b0c442...b855.
const Hash256& EmptyRoot();

// True if [begin, end) is a tree node (see the contract above).
bool IsTreeNode(uint64_t begin, uint64_t end);

// ---- Compact range ----

// The Merkle tree of a growing prefix of the log, kept as the roots of its perfect subtrees
// (at most one per level: O(log n) memory, no allocation). Feed every leaf hash once, in
// order; Root() is the RFC 6962 root of the leaves appended so far, at any size.
//
// Block roots: when constructed with a BlockCallback, every time Append completes an aligned
// perfect subtree of 2^block_level leaves, the callback gets its index i (it covers leaves
// [i * 2^block_level, (i + 1) * 2^block_level)) and its root, in increasing i, exactly once
// per block. With block_level = 0 that is every leaf hash.
//
// Not thread-safe. Copyable (a copy is a snapshot of the range; it shares the callback).
class MerkleRangeBuilder {
 public:
  using BlockCallback = std::function<void(uint64_t block_index, const Hash256& block_root)>;

  MerkleRangeBuilder() = default;
  // REQUIRES: block_level < kMerkleHeightMax.
  MerkleRangeBuilder(unsigned block_level, BlockCallback on_block);

  // Appends the leaf hash of the next entry (LeafHash(entry bytes)).
  // REQUIRES: size() < UINT64_MAX.
  void Append(const Hash256& leaf_hash);

  // Leaves appended so far.
  uint64_t size() const { return size_; }
  // MTH of the leaves appended so far; EmptyRoot() when none. O(log n) hashes.
  Hash256 Root() const;

 private:
  // perfect_[j] is the root of the j-th perfect subtree from the left; their sizes are the set
  // bits of size_, largest first.
  std::array<Hash256, ledger::kMerkleHeightMax> perfect_{};
  unsigned count_ = 0;
  uint64_t size_ = 0;
  unsigned block_level_ = 0;
  BlockCallback on_block_;
};

// MTH of leaf_hashes (already leaf-hashed). O(n) hashes, O(log n) memory.
Hash256 RootOfLeaves(std::span<const Hash256> leaf_hashes);

// ---- Sources of subtree hashes, for proof generation ----

// Sources are not thread-safe: use one per thread.
class SubtreeSource {
 public:
  virtual ~SubtreeSource() = default;
  // Stores MTH(D[begin:end]) in *out. Errors are the source's (a failed read); they are
  // returned unchanged by the proof functions.
  // REQUIRES: IsTreeNode(begin, end).
  virtual ledger::Status SubtreeHash(uint64_t begin, uint64_t end, Hash256* out) = 0;
};

// Answers from leaf hashes held in memory. Does not own them: leaf_hashes must outlive the
// source and not change meanwhile. A range beyond leaf_hashes.size() is invalid_argument.
class VectorSubtreeSource final : public SubtreeSource {
 public:
  explicit VectorSubtreeSource(std::span<const Hash256> leaf_hashes) : leaves_(leaf_hashes) {}
  ledger::Status SubtreeHash(uint64_t begin, uint64_t end, Hash256* out) override;

 private:
  std::span<const Hash256> leaves_;
};

// Answers from persisted block roots: an aligned perfect subtree of exactly 2^block_level
// leaves comes from BlockLookup (one call, block index = begin >> block_level); a larger node
// is combined from the blocks under it (2^(h - block_level) lookups for a perfect node of
// 2^h leaves); a smaller one is hashed from at most 2^block_level - 1 leaf hashes fetched with
// one LeafLookup call. Errors of either lookup are returned unchanged.
class BlockSubtreeSource final : public SubtreeSource {
 public:
  // Stores the root of block block_index in *out.
  using BlockLookup = std::function<ledger::Status(uint64_t block_index, Hash256* out)>;
  // Replaces *out with the leaf hashes of entries [begin, end), in order. On OK it must hold
  // exactly end - begin hashes (asserted).
  using LeafLookup =
      std::function<ledger::Status(uint64_t begin, uint64_t end, std::vector<Hash256>* out)>;

  // REQUIRES: block_level < kMerkleHeightMax; both lookups set.
  BlockSubtreeSource(unsigned block_level, BlockLookup blocks, LeafLookup leaves);
  ledger::Status SubtreeHash(uint64_t begin, uint64_t end, Hash256* out) override;

 private:
  unsigned block_level_;
  BlockLookup blocks_;
  LeafLookup leaves_;
  std::vector<Hash256> scratch_;  // reused leaf buffer
};

// ---- Proof generation (RFC 6962 section 2.1) ----

// *root = MTH of the first tree_size entries (asks source for the one node [0, tree_size)).
// tree_size 0 gives EmptyRoot() without asking.
ledger::Status TreeRoot(uint64_t tree_size, SubtreeSource& source, Hash256* root);

// *proof = PATH(leaf_index, D[tree_size]), at most kMerkleProofHashesMax hashes.
// Errors: invalid_argument unless leaf_index < tree_size; the source's errors.
ledger::Status InclusionProof(uint64_t leaf_index, uint64_t tree_size, SubtreeSource& source,
                              std::vector<Hash256>* proof);

// *proof = PROOF(old_size, D[new_size]), at most kMerkleProofHashesMax hashes; empty when
// old_size is 0 or equals new_size. Errors: invalid_argument if old_size > new_size; the
// source's errors.
ledger::Status ConsistencyProof(uint64_t old_size, uint64_t new_size, SubtreeSource& source,
                                std::vector<Hash256>* proof);

// ---- Verification (RFC 9162 sections 2.1.3.2 and 2.1.4.2), pure ----
//
// A proof binds a tree size only through its root: the RFC 9162 algorithms accept the same
// proof and root for neighbouring sizes whose paths have the same shape (e.g. leaf 0 of 3 and
// of 4). Take each size and its root together from one signed checkpoint, never separately.

// OK if proof shows that leaf_hash is entry leaf_index of the tree of tree_size entries whose
// root is root. Errors: invalid_argument (leaf_index >= tree_size, more than
// kMerkleProofHashesMax hashes); corruption (proof too long or too short for the position,
// or the computed root differs from root). Messages name which.
ledger::Status VerifyInclusion(const Hash256& leaf_hash, uint64_t leaf_index, uint64_t tree_size,
                               std::span<const Hash256> proof, const Hash256& root);

// OK if proof shows that the tree of old_size entries with root old_root is a prefix of the
// tree of new_size entries with root new_root. old_size == new_size needs an empty proof and
// equal roots; old_size == 0 needs an empty proof and old_root == EmptyRoot().
// Errors: invalid_argument (old_size > new_size, more than kMerkleProofHashesMax hashes);
// corruption (empty or wrongly sized proof, old or new root mismatch). Messages name which.
ledger::Status VerifyConsistency(uint64_t old_size, uint64_t new_size, const Hash256& old_root,
                                 const Hash256& new_root, std::span<const Hash256> proof);

}  // namespace shebao::replay
