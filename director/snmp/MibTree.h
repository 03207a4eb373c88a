// MibTree: a snapshot of the objects an SNMP agent serves, as an ordered map from OID to typed
// value. GET is a lookup, GETNEXT the first OID after the asked one (lexicographic on sub-ids,
// which is SNMP's order). Built on the lvs loop, read by the agent's thread; immutable once shared.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/IpAddress.h"

namespace snmp {

using Oid = std::vector<std::uint32_t>;

// "1.3.6.1" for logs and tests.
std::string oidText(const Oid& o);
// o with `more` appended.
Oid operator+(Oid o, const Oid& more);
bool startsWith(const Oid& o, const Oid& prefix);

struct Value {
    enum class Type : std::uint8_t {
        Integer,
        Unsigned,
        Gauge,
        Counter32,
        Counter64,
        OctetString,
        ObjectId,
        TimeTicks,  // hundredths of a second, in `number`
        IpAddress,  // SMIv2's IpAddress (4 bytes, in `bytes`)
    };
    Type type = Type::Integer;
    std::int64_t integer = 0;  // Integer
    std::uint64_t number = 0;  // Unsigned, Gauge, Counter32 (low 32 bits), Counter64
    std::string bytes;         // OctetString
    Oid oid;                   // ObjectId

    static Value integer32(std::int64_t v);
    static Value unsigned32(std::uint64_t v);
    static Value gauge32(std::uint64_t v);
    static Value counter32(std::uint64_t v);
    static Value counter64(std::uint64_t v);
    static Value string(std::string s);
    static Value address(const base::IpAddress& a);  // InetAddress: 4 or 16 bytes
    static Value timeTicks(std::uint64_t centiseconds);
    static Value ipAddress(const base::IpAddress& v4);  // IpAddress (IPv4 only: RFC 2787's objects)
    bool operator==(const Value&) const = default;
};

class MibTree {
public:
    void set(const Oid& oid, Value v) { objects_[oid] = std::move(v); }
    const Value* get(const Oid& oid) const;
    // The first object after `oid` that lies under `within` (nullopt: none).
    std::optional<std::pair<Oid, Value>> next(const Oid& oid, const Oid& within) const;
    size_t size() const { return objects_.size(); }
    const std::map<Oid, Value>& objects() const { return objects_; }

private:
    std::map<Oid, Value> objects_;
};

// A notification: its snmpTrapOID value and its varbinds, in order.
struct Trap {
    Oid trapOid;
    std::vector<std::pair<Oid, Value>> vars;
};

}  // namespace snmp
