// The keepalived.conf importer: keepalived's syntax as keepalived reads it, every keyword it carries
// over (checked field by field in the Config the output loads to), what it reports as not carried
// over, and Debian's own sample configs.
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "conf/KeepalivedImport.h"
#include "conf/KeepalivedKeywords.h"
#include "conf/KeepalivedParser.h"
#include "conf/Loader.h"

namespace fs = std::filesystem;
using conf::keepalived::parseString;

namespace {

conf::Config loadImported(const conf::ImportResult& r) {
    conf::LoadResult l = conf::loadString(r.text, "imported.conf");
    INFO(r.text);
    for (const auto& d : l.diagnostics) INFO(d.str());
    REQUIRE(l.ok());
    return *l.config;
}

std::vector<std::string> keywords(const conf::Diagnostics& ds) {
    std::vector<std::string> out;
    for (const auto& d : ds) out.push_back(std::to_string(d.line) + " " + d.path);
    return out;
}

base::IpAddress ip(const char* s) { return *base::IpAddress::parse(s); }

}  // namespace

TEST_CASE("keepalived syntax: comments, quotes, braces, continuations, parameters, conditions") {
    const auto r = parseString(R"(! a comment
global_defs {   # another
  router_id "my router"  ! trailing
}
vrrp_instance VI_1 { interface eth0
  virtual_ipaddress { 10.0.0.1/24 dev eth0 }
  priority \
    $PRIO
}
$PRIO=150
vrrp_instance VI_2
{
  priority $PRIO
  @d1 state MASTER
  @^d1 state BACKUP
  notify "/bin/echo #not a comment" root
}
$NAME=VI_3
vrrp_instance ${NAME} {}
}
)",
                               "k.conf", ".", "d2");
    REQUIRE(r.nodes.size() == 4);
    CHECK(r.nodes[0].keyword == "global_defs");
    REQUIRE(r.nodes[0].children.size() == 1);
    CHECK(r.nodes[0].children[0].args[0].text == "my router");
    CHECK(r.nodes[0].children[0].args[0].quoted);
    const auto& vi1 = r.nodes[1];
    CHECK(vi1.line == 5);
    REQUIRE(vi1.children.size() == 3);
    CHECK(vi1.children[0].keyword == "interface");
    CHECK(vi1.children[1].children[0].keyword == "10.0.0.1/24");
    CHECK(vi1.children[1].children[0].argTexts() == std::vector<std::string>{"dev", "eth0"});
    CHECK(vi1.children[2].argTexts() == std::vector<std::string>{"$PRIO"});  // not defined yet there
    const auto& vi2 = r.nodes[2];
    CHECK(vi2.block);  // `{` on the next line
    REQUIRE(vi2.children.size() == 3);
    CHECK(vi2.children[0].argTexts() == std::vector<std::string>{"150"});
    CHECK(vi2.children[1].argTexts() == std::vector<std::string>{"BACKUP"});  // id d2: the @^d1 line
    CHECK(vi2.children[2].argTexts() == std::vector<std::string>{"/bin/echo #not a comment", "root"});
    CHECK(r.nodes[3].argTexts() == std::vector<std::string>{"VI_3"});
    REQUIRE(r.problems.size() == 1);  // the stray }
    CHECK(r.problems[0].str() == "k.conf:20: syntax: '}' closes no block");
}

TEST_CASE("keepalived syntax: definitions expand where used, over lines, with keepalived's built-ins") {
    // A multi-line definition once became one line, so the real server lost its check; ${_HASH}
    // lines came out active and changed a weight.
    const auto r = parseString(R"($CHECK=TCP_CHECK { \
    connect_timeout $TIMEOUT \
  }
$RS=real_server $ADDR 80 { \
  weight 2 \
  $CHECK \
}
$TIMEOUT=3
virtual_server 10.0.0.1 80 {
  $ADDR=10.0.1.1
  $RS
  $ADDR=10.0.1.2
  $RS
  real_server 10.0.1.3 80 {
    ${_HASH} weight 100
    ${_BANG}weight 50
    weight 5
  }
}
$_HASH=overridden
vrrp_instance ${_INSTANCE} {
  notify ${_PWD}/n.sh
  priority ${_HASH}
}
$LOOP=$LOOP x
vrrp_instance $LOOP {}
)",
                               "k.conf", "/etc/keepalived", "lb1");
    for (const auto& p : r.problems) INFO(p.str());
    REQUIRE(r.nodes.size() == 3);
    const auto& vs = r.nodes[0];
    REQUIRE(vs.children.size() == 3);
    for (int i = 0; i < 2; ++i) {
        const auto& rs = vs.children[i];
        CHECK(rs.keyword == "real_server");
        CHECK(rs.argTexts() == std::vector<std::string>{i == 0 ? "10.0.1.1" : "10.0.1.2", "80"});
        REQUIRE(rs.children.size() == 2);
        CHECK(rs.children[0].argTexts() == std::vector<std::string>{"2"});
        CHECK(rs.children[1].keyword == "TCP_CHECK");
        REQUIRE(rs.children[1].children.size() == 1);
        CHECK(rs.children[1].children[0].argTexts() == std::vector<std::string>{"3"});  // defined after $CHECK
    }
    const auto& third = vs.children[2];
    REQUIRE(third.children.size() == 1);  // the ${_HASH} and ${_BANG} lines are comments
    CHECK(third.children[0].argTexts() == std::vector<std::string>{"5"});
    const auto& vi = r.nodes[1];
    CHECK(vi.argTexts() == std::vector<std::string>{"lb1"});
    REQUIRE(vi.children.size() == 2);
    CHECK(vi.children[0].argTexts() == std::vector<std::string>{"/etc/keepalived/n.sh"});
    CHECK(vi.children[1].argTexts() == std::vector<std::string>{"overridden"});  // a definition overrides a built-in
    CHECK(r.nodes[2].args.size() >= 2);  // a definition that uses itself stops expanding

    // definitions that multiply (each ten of the one before) stop at a bound, with a diagnostic
    std::string bomb = "$A=" + std::string(100, 'x') + "\n";
    for (char c = 'B'; c <= 'H'; ++c)
        bomb += std::string("$") + c + "=" + [&] {
            std::string refs;
            for (int k = 0; k < 10; ++k) refs += std::string("$") + static_cast<char>(c - 1) + " ";
            return refs;
        }() + "\n";
    bomb += "vrrp_instance $H {}\n";
    const auto big = parseString(bomb, "b.conf", ".", "x");
    REQUIRE(big.problems.size() == 1);
    CHECK(big.problems[0].str() == "b.conf:9: definition: expands to more than 64 KiB (definitions that multiply?)");

    const auto seq = parseString("~SEQ(i, 1, 3) vrrp_instance VI_$i {}\n", "s.conf", ".", "x");
    CHECK(seq.problems.empty());
    REQUIRE(seq.nodes.size() == 3);
    CHECK(seq.nodes[2].argTexts() == std::vector<std::string>{"VI_3"});
}

TEST_CASE("keepalived syntax: include globs relative to the including file, loops stop") {
    const fs::path dir = fs::temp_directory_path() / ("ka-include-" + std::to_string(::getpid()));
    fs::create_directories(dir / "conf.d");
    std::ofstream(dir / "main.conf") << "include conf.d/*.conf\ninclude missing/*.conf\n";
    std::ofstream(dir / "conf.d/a.conf") << "vrrp_script a { interval 2 }\n";
    std::ofstream(dir / "conf.d/b.conf") << "vrrp_script b { interval 3 }\ninclude ../loop.conf\n";
    std::ofstream(dir / "loop.conf") << "include loop.conf\n";
    const auto r = conf::keepalived::parseFile((dir / "main.conf").string(), "x");
    REQUIRE(r.nodes.size() == 2);
    CHECK(r.nodes[0].args[0].text == "a");
    CHECK(r.nodes[1].args[0].text == "b");
    CHECK(r.nodes[1].file == (dir / "conf.d/b.conf").string());
    bool missing = false, deep = false;
    for (const auto& p : r.problems) {
        missing |= p.message.find("missing/*.conf matches no file") != std::string::npos;
        deep |= p.message.find("nested too deep") != std::string::npos;
    }
    CHECK(missing);
    CHECK(deep);
    CHECK_FALSE(conf::keepalived::parseFile((dir / "none.conf").string(), "x").readable);
    fs::remove_all(dir);
}

TEST_CASE("import: every supported keyword reaches the directord config") {
    const auto r = conf::importKeepalivedString(R"(
global_defs {
  router_id lb1
  script_user nobody
  enable_script_security
  notify_fifo /run/ka.fifo
  lvs_timeouts tcp 7200 tcpfin 120 udp 300
  lvs_sync_daemon eth1 VI_1 id 5 maxlen 1400 port 8849 ttl 2 group 224.0.0.82
  lvs_flush_on_stop VS
  vrrp_garp_master_delay 10
  vrrp_garp_master_repeat 2
  vrrp_garp_master_refresh 60
  vrrp_garp_master_refresh_repeat 3
  vrrp_garp_interval 0.01
  vrrp_version 3
  enable_snmp_vrrp
  enable_snmp_rfcv3
  enable_traps
  snmp_socket tcp:127.0.0.1:705
}
vrrp_script chk_web {
  script "/usr/bin/test -e /tmp/web"
  interval 2
  weight -20
  rise 3
  fall 2
  user nobody
}
vrrp_instance VI_1 {
  state MASTER
  interface eth0
  virtual_router_id 51
  priority 150
  advert_int 0.5
  preempt_delay 4
  unicast_src_ip 10.0.0.11
  unicast_peer {
    10.0.0.12
  }
  virtual_ipaddress {
    10.0.0.100/24 dev eth0 label eth0:vip scope global
    10.0.0.101
  }
  virtual_ipaddress_excluded {
    10.0.0.102/32
  }
  dont_track_primary
  track_interface {
    eth0
    eth1 weight -10
  }
  track_script {
    chk_web weight 5
  }
  garp_master_delay 3
  notify_master "/usr/bin/logger master"
  notify_backup /usr/bin/logger
  notify_fault "/usr/bin/logger fault"
  notify_stop "/usr/bin/logger stop"
  notify /usr/bin/logger
}
vrrp_instance VI_2 {
  interface eth0
  virtual_router_id 52
  version 2
  nopreempt
  authentication {
    auth_type AH
    auth_pass longerthan8
  }
  virtual_ipaddress {
    10.0.0.200/24
  }
}
vrrp_instance VI_6 {
  interface eth0
  virtual_router_id 53
  virtual_ipaddress {
    2001:db8::100/64
  }
}
vrrp_sync_group G1 {
  group {
    VI_1 VI_2
  }
  sync_group_tracking_weight
  notify_master "/usr/bin/logger group master"
}
virtual_server_group WEB {
  10.0.1.1-2 80
  fwmark 7
}
virtual_server group WEB {
  delay_loop 5
  lb_algo mh
  lb_kind DR
  mh-port
  mh-fallback
  protocol TCP
  persistence_timeout
  persistence_granularity 255.255.255.0
  quorum 2
  hysteresis 1
  quorum_up "/usr/bin/logger up"
  quorum_down "/usr/bin/logger down"
  sorry_server 10.0.2.9 8080
  sorry_server_lvs_method NAT
  alpha
  omega
  ha_suspend
  virtualhost www.example.com
  inhibit_on_failure
  real_server 10.0.2.1 80 {
    weight 3
    uthreshold 100
    lthreshold 50
    notify_up "/usr/bin/logger rs up"
    notify_down /usr/bin/logger
    retry 4
    HTTP_GET {
      url {
        path /health
        status_code 200 301-302
        digest 0123456789abcdef0123456789abcdef
      }
      url {
        path /ready
        regex "^ok"
        regex_no_match
        virtualhost ready.example.com
      }
      connect_port 8080
      connect_timeout 2
      bindto 10.0.0.11
      http_protocol 1.1
    }
    TCP_CHECK {
      connect_ip 10.0.2.11
      connect_port 9000
      nb_get_retry 2
      delay_before_retry 0.5
      warmup 0
      delay_loop 1
    }
  }
  real_server 10.0.2.2 80 {
    inhibit_on_failure off
    lvs_method DR
    SSL_GET {
      url {
        path /
      }
      enable_sni
    }
    MISC_CHECK {
      misc_path "/usr/bin/test -e /tmp/rs2"
      misc_timeout 3
      misc_dynamic
      user nobody
    }
  }
}
virtual_server 10.0.3.1 53 {
  protocol UDP
  lb_algo rr
  lb_kind TUN type gue port 6080 csum
  ops
  real_server 10.0.4.1 {
    MISC_CHECK {
      misc_path /usr/bin/true
    }
  }
}
)",
                                                "ka.conf", "lb1");
    INFO(r.text);
    for (const auto& d : r.left) INFO("left: " + d.str());
    for (const auto& d : r.loadErrors) INFO("load: " + d.str());
    CHECK(r.left.empty());
    CHECK(r.loadErrors.empty());
    CHECK(r.complete());
    const conf::Config c = loadImported(r);
    const auto& g = c.global;
    CHECK(g.routerId == "lb1");
    CHECK(g.scriptUser == "nobody");
    CHECK(g.scriptSecurity);
    CHECK(g.notifyFifo == "/run/ka.fifo");
    CHECK(g.ipvsTimeouts == conf::IpvsTimeouts{7200, 120, 300});
    CHECK(g.syncDaemon.enabled);
    CHECK(g.syncDaemon.interface == "eth1");
    CHECK(g.syncDaemon.vrrpInstance == "VI_1");
    CHECK((g.syncDaemon.syncId == 5 && g.syncDaemon.maxlen == 1400 && g.syncDaemon.port == 8849 &&
           g.syncDaemon.ttl == 2 && g.syncDaemon.group == ip("224.0.0.82")));
    CHECK(g.flushOnStop == conf::FlushOnStop::Created);
    CHECK(g.snmp.enabled);
    CHECK(g.snmp.mibs == std::vector<std::string>{"keepalived", "vrrpv3"});
    CHECK(g.snmp.traps);
    CHECK(g.snmp.agentxSocket == "tcp:127.0.0.1:705");

    REQUIRE(c.vrrpScripts.size() == 1);
    const auto& s = c.vrrpScripts[0];
    CHECK(s.command.argv == std::vector<std::string>{"/usr/bin/test", "-e", "/tmp/web"});
    CHECK(s.interval == std::chrono::seconds(2));
    CHECK(s.timeout == std::chrono::seconds(2));  // keepalived's: the interval
    CHECK((s.weight == -20 && s.rise == 3 && s.fall == 2 && s.user == "nobody"));

    REQUIRE(c.vrrpInstances.size() == 3);
    const auto& v1 = c.vrrpInstances[0];
    CHECK((v1.interface == "eth0" && v1.vrid == 51 && v1.priority == 150 && v1.initialMaster));
    CHECK(v1.version == 3);  // vrrp_version
    CHECK(v1.advertInterval == std::chrono::milliseconds(500));
    CHECK(v1.preemptDelay == std::chrono::seconds(4));
    CHECK(v1.unicastSource == ip("10.0.0.11"));
    CHECK(v1.unicastPeers == std::vector<base::IpAddress>{ip("10.0.0.12")});
    REQUIRE(v1.virtualAddresses.size() == 2);
    CHECK(v1.virtualAddresses[0].prefix.str() == "10.0.0.100/24");
    CHECK((v1.virtualAddresses[0].dev == "eth0" && v1.virtualAddresses[0].label == "eth0:vip"));
    CHECK(v1.virtualAddresses[1].prefix.str() == "10.0.0.101/32");
    CHECK(v1.excludedAddresses.size() == 1);
    // eth0 is the instance's own: keepalived ignores it there (tracked anyway, down is FAULT)
    CHECK(v1.dontTrackPrimary);
    REQUIRE(v1.trackInterfaces.size() == 1);
    CHECK((v1.trackInterfaces[0].interface == "eth1" && v1.trackInterfaces[0].weight == -10));
    REQUIRE(v1.trackScripts.size() == 1);
    CHECK((v1.trackScripts[0].script == "chk_web" && v1.trackScripts[0].weight == 5));
    CHECK(v1.garp.masterDelay == std::chrono::seconds(3));
    CHECK((v1.garp.masterRepeat == 2 && v1.garp.masterRefresh == std::chrono::seconds(60) &&
           v1.garp.masterRefreshRepeat == 3 && v1.garp.interval == std::chrono::milliseconds(10)));
    CHECK(v1.notify.master.argv == std::vector<std::string>{"/usr/bin/logger", "master"});
    CHECK(v1.notify.backup.argv == std::vector<std::string>{"/usr/bin/logger"});
    CHECK(v1.notify.stop.argv.size() == 2);
    CHECK(v1.notify.generic.argv == std::vector<std::string>{"/usr/bin/logger"});
    const auto& v2 = c.vrrpInstances[1];
    CHECK((v2.version == 2 && v2.nopreempt && v2.priority == 100 && !v2.initialMaster));
    CHECK((v2.authType == conf::AuthType::Ah && v2.authPassword == "longerth"));  // keepalived's first 8
    const auto& v6 = c.vrrpInstances[2];
    CHECK((v6.family == base::Family::V6 && v6.version == 3));
    REQUIRE(c.syncGroups.size() == 1);
    CHECK(c.syncGroups[0].members == std::vector<std::string>{"VI_1", "VI_2"});
    CHECK(c.syncGroups[0].notify.master.argv.size() == 3);

    // the group expands to three virtual servers with the same body
    REQUIRE(c.virtualServers.size() == 4);
    CHECK(c.virtualServers[0].str() == "10.0.1.1:80/tcp");
    CHECK(c.virtualServers[1].str() == "10.0.1.2:80/tcp");
    CHECK(c.virtualServers[2].str() == "fwmark 7");
    const auto& vs = c.virtualServers[0];
    CHECK((vs.scheduler == "mh" && vs.schedPort && vs.schedFallback && vs.forwarding == conf::Forwarding::Route));
    CHECK(vs.persistenceTimeout == 360);  // keepalived's with no value
    CHECK(vs.persistenceNetmask == 24);
    CHECK((vs.quorum == 2 && vs.hysteresis == 1 && vs.quorumUp.argv.size() == 2 && vs.quorumDown.argv.size() == 2));
    REQUIRE(vs.sorryServer);
    CHECK((vs.sorryServer->address == ip("10.0.2.9") && vs.sorryServer->port == 8080 &&
           vs.sorryServer->forwarding == conf::Forwarding::Masq));
    CHECK((vs.alpha && vs.omega && vs.haSuspend && vs.inhibitOnFailure && vs.virtualhost == "www.example.com"));
    CHECK(vs.delayLoop == std::chrono::seconds(5));
    CHECK(vs.warmup == std::chrono::seconds(5));  // keepalived's: up to delay_loop
    REQUIRE(vs.realServers.size() == 2);
    const auto& r1 = vs.realServers[0];
    CHECK((r1.weight == 3 && r1.upperThreshold == 100 && r1.lowerThreshold == 50));
    CHECK((r1.notifyUp.argv.size() == 3 && r1.notifyDown.argv.size() == 1));
    REQUIRE(r1.checks.size() == 3);  // one per url, and the TCP check
    const auto& h1 = r1.checks[0];
    CHECK((h1.type == conf::CheckType::Http && h1.path == "/health" && h1.digest.size() == 32));
    CHECK(h1.statusCodes == std::vector<conf::StatusRange>{{200, 200}, {301, 302}});
    CHECK((h1.connectPort == 8080 && h1.connectTimeout == std::chrono::seconds(2) && h1.bindIp == ip("10.0.0.11")));
    CHECK((h1.httpVersion == "1.1" && h1.retry == 4));      // the real server's retry
    CHECK(h1.delayBeforeRetry == std::chrono::seconds(3));  // keepalived's for HTTP_GET
    const auto& h2 = r1.checks[1];
    CHECK((h2.path == "/ready" && h2.regex == "^ok" && h2.regexNoMatch && h2.virtualhost == "ready.example.com"));
    const auto& t1 = r1.checks[2];
    CHECK((t1.type == conf::CheckType::Tcp && t1.connectIp == ip("10.0.2.11") && t1.connectPort == 9000));
    CHECK((t1.retry == 2 && t1.delayBeforeRetry == std::chrono::milliseconds(500)));
    CHECK((t1.warmup == std::chrono::seconds(0) && t1.delayLoop == std::chrono::seconds(1)));
    const auto& r2 = vs.realServers[1];
    CHECK((r2.inhibitOnFailure == false && r2.forwarding == conf::Forwarding::Route && r2.port == 80));
    REQUIRE(r2.checks.size() == 2);
    CHECK((r2.checks[0].type == conf::CheckType::Https && r2.checks[0].path == "/"));
    const auto& m = r2.checks[1];
    CHECK((m.type == conf::CheckType::Script && m.command.argv.size() == 3 && m.timeout == std::chrono::seconds(3)));
    CHECK((m.dynamicWeight && m.user == "nobody" && m.retry == 0));  // keepalived's MISC_CHECK retry
    const auto& udp = c.virtualServers[3];
    CHECK(udp.str() == "10.0.3.1:53/udp");
    CHECK((udp.forwarding == conf::Forwarding::Tunnel && udp.tunnel.type == conf::TunnelType::Gue &&
           udp.tunnel.port == 6080 && udp.tunnel.checksum == conf::TunnelChecksum::Csum && udp.onePacket));
    CHECK(udp.realServers.at(0).port == 53);                                     // no port: the virtual server's
    CHECK(udp.realServers[0].checks.at(0).timeout == std::chrono::seconds(60));  // misc_timeout: delay_loop
}

TEST_CASE("import: UDP_CHECK, DNS_CHECK, SMTP_CHECK and PING_CHECK come across with keepalived's defaults") {
    const auto r = conf::importKeepalivedString(R"(virtual_server 10.0.3.1 53 {
  protocol UDP
  delay_loop 4
  real_server 10.0.4.1 53 {
    DNS_CHECK {
      type aaaa
      name www.example.com.
    }
    UDP_CHECK {
      connect_port 5353
      payload 01 02 0a0b
      require_reply ca fX 00
      min_reply_length 3
      max_reply_length 600
    }
  }
  real_server 10.0.4.2 53 {
    DNS_CHECK {
      retry 1
      delay_before_retry 2
    }
    UDP_CHECK {
      min_reply_length 9
      max_reply_length 2
    }
  }
}
virtual_server 10.0.3.1 25 {
  protocol TCP
  real_server 10.0.4.4 25 {
    PING_CHECK {
      connect_ip 10.0.5.4
      connect_timeout 2
    }
  }
  real_server 10.0.4.3 25 {
    SMTP_CHECK {
      helo_name mx.example.com
      connect_timeout 4
    }
    SMTP_CHECK {
      connect_port 2525
    }
  }
}
)",
                                                "ka.conf", "lb1");
    INFO(r.text);
    for (const auto& d : r.left) INFO("left: " + d.str());
    for (const auto& d : r.loadErrors) INFO("load: " + d.str());
    CHECK(r.left.empty());
    CHECK(r.loadErrors.empty());
    CHECK(r.complete());
    const conf::Config c = loadImported(r);
    const auto& a = c.virtualServers.at(0).realServers.at(0).checks;
    REQUIRE(a.size() == 2);
    CHECK(a[0].type == conf::CheckType::Dns);
    CHECK(a[0].queryType == "AAAA");
    CHECK(a[0].queryName == "www.example.com.");
    CHECK(a[0].retry == 3);  // keepalived's DNS_CHECK default
    CHECK(a[0].delayBeforeRetry == std::chrono::seconds(4));  // keepalived: the check's delay_loop
    CHECK(a[1].type == conf::CheckType::Udp);
    CHECK(a[1].connectPort == 5353);
    CHECK(a[1].payload == std::string("\x01\x02\x0a\x0b", 4));
    CHECK(a[1].requireReply);
    CHECK(a[1].reply == std::string("\xca\xf0\x00", 3));
    CHECK(a[1].replyMask == std::string("\x00\x0f\x00", 3));
    CHECK((a[1].minReplyLength == 3 && a[1].maxReplyLength == 600));
    const auto& b = c.virtualServers.at(0).realServers.at(1).checks;
    REQUIRE(b.size() == 2);
    CHECK(b[0].queryType == "SOA");  // keepalived's default question: SOA of the root
    CHECK(b[0].queryName.empty());
    CHECK(b[0].retry == 1);
    CHECK(b[0].delayBeforeRetry == std::chrono::seconds(2));
    CHECK_FALSE(b[1].requireReply);  // no reply required: lengths mean nothing (keepalived)
    CHECK((b[1].minReplyLength == 0 && b[1].maxReplyLength == 255));
    const auto& p = c.virtualServers.at(1).realServers.at(0).checks;
    REQUIRE(p.size() == 1);
    CHECK(p[0].type == conf::CheckType::Ping);
    CHECK(p[0].connectIp == ip("10.0.5.4"));
    CHECK(p[0].connectTimeout == std::chrono::seconds(2));
    const auto& m = c.virtualServers.at(1).realServers.at(1).checks;
    REQUIRE(m.size() == 2);
    CHECK(m[0].type == conf::CheckType::Smtp);
    CHECK(m[0].heloName == "mx.example.com");
    CHECK(m[0].connectTimeout == std::chrono::seconds(4));
    CHECK(m[1].heloName == "smtpchecker.keepalived.org");  // keepalived's default, so servers see the same
    CHECK(m[1].connectPort == 2525);
}

TEST_CASE("import: persistence_timeout 0 is no persistence; a peer with a prefix length is its address") {
    // Two silent misconversions once: 0 became keepalived's no-argument default (360 s), and a
    // unicast_src_ip or peer written with /24 was dropped, so the pair silently went multicast.
    const auto r = conf::importKeepalivedString(R"(vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  unicast_src_ip 192.168.0.92/24
  unicast_peer {
    192.168.0.91/24
    192.168.0.93
  }
  virtual_ipaddress {
    192.168.0.10/24
  }
}
virtual_server 10.0.0.1 80 {
  persistence_timeout 0
  real_server 10.0.0.2 80 {
  }
}
virtual_server 10.0.0.1 81 {
  persistence_timeout
  real_server 10.0.0.2 81 {
  }
}
)",
                                                "ka.conf", "x");
    INFO(r.text);
    CHECK(r.complete());
    const conf::Config c = loadImported(r);
    const auto& v = c.vrrpInstances.at(0);
    REQUIRE(v.unicastSource);
    CHECK(v.unicastSource->str() == "192.168.0.92");
    REQUIRE(v.unicastPeers.size() == 2);
    CHECK(v.unicastPeers[0].str() == "192.168.0.91");
    CHECK(v.unicastPeers[1].str() == "192.168.0.93");
    CHECK(c.virtualServers.at(0).persistenceTimeout == 0);
    CHECK(c.virtualServers.at(1).persistenceTimeout == 360);
    int prefixNotes = 0;
    for (const auto& n : r.notes) prefixNotes += n.message.find("keepalived ignores what follows the address") != std::string::npos;
    CHECK(prefixNotes == 2);
}

TEST_CASE("import: keepalived's leniencies: a missing track script, a VIP twice, VRRPv3 authentication") {
    // keepalived runs this file, warning three times; the import carries it over the same way, with
    // a note for each, in line order
    const auto r = conf::importKeepalivedString(R"(vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  version 3
  authentication {
    auth_type PASS
    auth_pass secret
  }
  virtual_ipaddress {
    10.0.0.10/24
    10.0.0.10/24
    10.0.0.11/24
  }
  track_script {
    chk_missing
    chk_ok
  }
}
vrrp_script chk_ok {
  script "/bin/true"
}
)",
                                                "ka.conf", "x");
    INFO(r.text);
    CHECK(r.complete());
    const conf::Config c = loadImported(r);
    const auto& v = c.vrrpInstances.at(0);
    CHECK(v.authType == conf::AuthType::None);
    REQUIRE(v.virtualAddresses.size() == 2);
    CHECK(v.virtualAddresses[1].prefix.str() == "10.0.0.11/24");
    REQUIRE(v.trackScripts.size() == 1);
    CHECK(v.trackScripts[0].script == "chk_ok");
    std::vector<int> lines;
    for (const auto& n : r.notes)
        if (n.path != "script_user") lines.push_back(n.line);
    CHECK(lines == std::vector<int>{5, 11, 15});
}

TEST_CASE("import: a keepalived keyword not carried over is told apart from a typo") {
    const auto r = conf::importKeepalivedString(R"(global_defs {
  checker_process_name lb_checker
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  virtual_ipadress {
    10.0.0.10/24
  }
}
)",
                                                "ka.conf", "x");
    REQUIRE(r.left.size() == 2);
    CHECK(r.left[0].message == "a keepalived keyword directord's import does not carry over here");
    CHECK(r.left[1].message == "not a keepalived keyword either: a typo? (keepalived has 'virtual_ipaddress')");
    CHECK(conf::keepalived::isKeyword("MISC_CHECK"));
    CHECK(conf::keepalived::isKeyword("unicast_peer"));
    CHECK_FALSE(conf::keepalived::isKeyword("frobnicate"));
    CHECK(conf::keepalived::nearestKeyword("frobnicate").empty());
    CHECK(conf::keepalived::nearestKeyword("priorty") == "priority");
}

TEST_CASE("import: a missing file says so; an empty one is not imported completely") {
    const auto missing = conf::importKeepalived("/nonexistent/keepalived.conf", "x");
    CHECK_FALSE(missing.readable);
    REQUIRE(missing.left.size() == 1);
    CHECK(missing.left[0].path.empty());  // the file itself, not an include
    CHECK(missing.left[0].message.find("cannot open") != std::string::npos);
    const auto empty = conf::importKeepalivedString("# nothing but a comment\n", "empty.conf", "x");
    CHECK_FALSE(empty.complete());
    REQUIRE(empty.left.size() == 1);
    CHECK(empty.left[0].message.starts_with("no vrrp_instance, virtual_server, static_ipaddress, static_routes or static_rules: nothing to import"));
}

TEST_CASE("import: what cannot be carried over is reported with file, line and why") {
    const auto r = conf::importKeepalivedString(R"(global_defs {
  notification_email {
    ops@example.com
  }
  vrrp_strict
  frobnicate 3
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  use_vmac 02:11:22:33:44:55
  virtual_ipaddress {
    10.0.0.1/24 dev eth0 -nodad
  }
  track_script {
    chk weight 10 reverse
  }
  virtual_routes {
    10.1.0.0/16 via 10.0.0.254
  }
}
vrrp_script chk {
  script relative/path.sh
}
virtual_server 10.0.0.1 80 {
  protocol TCP
  real_server 10.0.0.2 80 {
    FILE_CHECK {
      file /run/weight
    }
  }
}
virtual_server 10.0.0.1 81 {
  real_server 10.0.0.3 81 {
    TCP_CHECK { connect_timeout 1 }
  }
}
)",
                                                "bad.conf", "x");
    CHECK(keywords(r.left) == std::vector<std::string>{"6 frobnicate", "11 use_vmac", "13 10.0.0.1/24", "16 chk",
                                                       "23 script", "28 FILE_CHECK", "29 file"});
    CHECK(r.left[3].str() == "bad.conf:16: chk: reverse: directord's weights apply in their own direction only");
    CHECK(r.left[0].message == "not a keepalived keyword either: a typo?");
    CHECK_FALSE(r.complete());
    bool udpNote = false;
    for (const auto& n : r.notes)
        udpNote |= n.line == 33 && n.message.find("keepalived makes it UDP") != std::string::npos;
    CHECK(udpNote);
    CHECK(r.text.find("#   not carried over: bad.conf:6: frobnicate:") != std::string::npos);
}

TEST_CASE("import: keepalived's own samples (Debian's keepalived package) import and load") {
    const fs::path dir = "/usr/share/doc/keepalived/samples";
    REQUIRE(fs::is_directory(dir));  // tools/setup-debian.sh installs keepalived
    // every one loads (conditional_conf's script exists only under -i high or -i low: under
    // another id keepalived removes the vrrp_script, and so does the import)
    int samples = 0;
    for (const auto& e : fs::directory_iterator(dir)) {
        const std::string name = e.path().filename().string();
        if (name.rfind("keepalived.conf.", 0) != 0) continue;
        ++samples;
        SECTION(name) {
            const auto r = conf::importKeepalived(e.path().string(), "x");
            REQUIRE(r.readable);
            for (const auto& d : r.left) CHECK_FALSE(d.message.empty());
            for (const auto& d : r.loadErrors) INFO(d.str());
            CHECK(r.loadErrors.empty());
        }
    }
    CHECK(samples >= 20);
    const auto sample = conf::importKeepalived((dir / "keepalived.conf.sample").string(), "x");
    const conf::Config c = loadImported(sample);
    REQUIRE(c.virtualServers.size() == 1);
    const auto& vs = c.virtualServers[0];
    CHECK((vs.str() == "10.10.10.2:1358/tcp" && vs.scheduler == "rr" && vs.persistenceTimeout == 50));
    CHECK((vs.sorryServer && vs.sorryServer->port == 1358));
    CHECK(vs.realServers.at(0).checks.at(0).digest == "640205b7b0fc66c1ea91c463fac6334d");
    CHECK(c.vrrpInstances.at(0).nopreempt);
    // its mail settings come across whole (they were what the import left out before)
    CHECK(sample.left.empty());
    CHECK((c.global.smtp.server && c.global.smtp.server->str() == "192.168.200.1:25"));
    CHECK(c.global.smtp.to == std::vector<std::string>{"acassen"});
    CHECK(c.global.smtp.from == "Alexandre.Cassen@firewall.loc");
    CHECK(c.global.smtp.connectTimeout == std::chrono::seconds(30));
}

TEST_CASE("import: track_file, FILE_CHECK and an instance's track_file come across") {
    const auto r = conf::importKeepalivedString(R"(track_file maint {
  file /run/maint
  weight 0 reverse
  init_file 1 overwrite
}
vrrp_track_file load {
  file "/run/load"
  weight -3
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 100
  virtual_ipaddress {
    10.0.0.10/24
  }
  track_file {
    maint
    load weight -10 reverse
    nosuch
  }
}
virtual_server 10.0.3.1 80 {
  protocol TCP
  real_server 10.0.4.1 80 {
    weight 5
    FILE_CHECK {
      track_file load
      weight 2 noreverse
    }
    FILE_CHECK {
      track_file maint
    }
    FILE_CHECK {
      track_file missing
    }
  }
}
)",
                                                "ka.conf", "lb1");
    INFO(r.text);
    for (const auto& d : r.left) INFO("left: " + d.str());
    for (const auto& d : r.loadErrors) INFO("load: " + d.str());
    CHECK(r.loadErrors.empty());
    // the two references to nothing are what keepalived reports and ignores, and only those
    REQUIRE(r.left.size() == 2);
    CHECK(r.left[0].str().find("nosuch") != std::string::npos);
    CHECK(r.left[1].str().find("missing") != std::string::npos);
    const conf::Config c = loadImported(r);
    REQUIRE(c.trackFiles.size() == 2);
    CHECK((c.trackFiles[0].name == "maint" && c.trackFiles[0].path == "/run/maint" && c.trackFiles[0].weight == 0 &&
           c.trackFiles[0].reverse && c.trackFiles[0].initValue == 1 && c.trackFiles[0].initOverwrite));
    CHECK((c.trackFiles[1].name == "load" && c.trackFiles[1].weight == -3 && !c.trackFiles[1].reverse));
    const auto& v = c.vrrpInstances.at(0);
    REQUIRE(v.trackFiles.size() == 2);
    CHECK((v.trackFiles[0].file == "maint" && !v.trackFiles[0].weight));
    CHECK((v.trackFiles[1].file == "load" && v.trackFiles[1].weight == -10 && v.trackFiles[1].reverse == true));
    const auto& checks = c.virtualServers.at(0).realServers.at(0).checks;
    REQUIRE(checks.size() == 2);
    CHECK((checks[0].type == conf::CheckType::File && checks[0].trackFile == "load" && checks[0].fileWeight == 2 &&
           checks[0].fileReverse == false));
    CHECK((checks[1].trackFile == "maint" && !checks[1].fileWeight));
}

TEST_CASE("import: mail alerts and keepalived's smtp_alert defaults") {
    const auto r = conf::importKeepalivedString(R"(global_defs {
  notification_email {
    ops@example.com
    noc@example.com
  }
  notification_email_from lb1@example.com
  smtp_server 10.0.9.25 2525
  smtp_connect_timeout 7
  smtp_helo_name lb1.example.com
  smtp_alert
  smtp_alert_checker off
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  virtual_ipaddress {
    10.0.0.10/24
  }
}
vrrp_instance VI_2 {
  interface eth0
  virtual_router_id 52
  smtp_alert false
  virtual_ipaddress {
    10.0.0.11/24
  }
}
virtual_server 10.0.3.1 80 {
  real_server 10.0.4.1 80 {
  }
  real_server 10.0.4.2 80 {
    smtp_alert
  }
}
)",
                                                "ka.conf", "lb1");
    for (const auto& d : r.left) INFO("left: " + d.str());
    CHECK(r.left.empty());
    const conf::Config c = loadImported(r);
    CHECK(c.global.smtp.server->str() == "10.0.9.25:2525");
    CHECK(c.global.smtp.to == std::vector<std::string>{"ops@example.com", "noc@example.com"});
    CHECK((c.global.smtp.from == "lb1@example.com" && c.global.smtp.heloName == "lb1.example.com"));
    CHECK(c.global.smtp.connectTimeout == std::chrono::seconds(7));
    CHECK(c.vrrpInstances.at(0).smtpAlert);   // smtp_alert
    CHECK_FALSE(c.vrrpInstances.at(1).smtpAlert);  // its own
    CHECK_FALSE(c.virtualServers.at(0).smtpAlert);  // smtp_alert_checker off
    CHECK_FALSE(c.virtualServers.at(0).realServers.at(0).smtpAlert);
    CHECK(c.virtualServers.at(0).realServers.at(1).smtpAlert);
    // nothing set anywhere: real servers on, the rest off (keepalived's defaults)
    const auto bare = conf::importKeepalivedString(R"(virtual_server 10.0.3.1 80 {
  real_server 10.0.4.1 80 {
  }
}
)",
                                                   "ka.conf", "lb1");
    const conf::Config b = loadImported(bare);
    CHECK_FALSE(b.virtualServers.at(0).smtpAlert);
    CHECK(b.virtualServers.at(0).realServers.at(0).smtpAlert);
    CHECK_FALSE(b.global.smtp.server);
}

TEST_CASE("import: a port 0 (all ports) persistent service and a '</' script come across and load") {
    const auto r = conf::importKeepalivedString(R"(vrrp_script chk_port {
  script "</dev/tcp/127.0.0.1/80"
  interval 2
}
virtual_server 10.0.0.1 0 {
  lb_algo wrr
  lb_kind DR
  persistence_timeout 600
  protocol TCP
  real_server 10.0.1.1 0 {
    TCP_CHECK {
      connect_port 80
    }
  }
}
)",
                                                "ka.conf", "lb1");
    for (const auto& d : r.left) INFO("left: " + d.str());
    for (const auto& d : r.loadErrors) INFO("load: " + d.str());
    CHECK(r.left.empty());
    CHECK(r.loadErrors.empty());
    const conf::Config c = loadImported(r);
    const auto& vs = c.virtualServers.at(0);
    CHECK((vs.port == 0 && vs.persistenceTimeout == 600));
    CHECK(vs.realServers.at(0).port == 0);
    CHECK(vs.realServers.at(0).checks.at(0).connectPort == 80);
    CHECK(c.vrrpScripts.at(0).command.argv == std::vector<std::string>{"/bin/sh", "-c", "</dev/tcp/127.0.0.1/80"});
    // IPVS refuses a port 0 service without persistence, and so does the loader
    const auto bad = conf::loadString(R"(virtual_servers = ( { address = "10.0.0.1"; port = 0;
  real_servers = ( { address = "10.0.1.1"; } ); } );)",
                                      "t.conf");
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.diagnostics.at(0).message.find("needs persistence_timeout") != std::string::npos);
}

TEST_CASE("keepalived syntax: ~SEQ, ~SEQx and ~LST blocks expand as keepalived's man page shows") {
    const auto r = parseString(R"(virtual_ipaddress {
  ~SEQ(SUBNET, 0, 3) 10.0.${SUBNET}.1/24
  ~SEQx(SUBNET, 0x90, 0x10, 0xc0) fe80::20:${SUBNET}:1
  ~LST({IP, IP1}, {10,1},{20,4}) 192.168.${IP}.${IP1}
  ~LST(IP, 1, 2) ~LST(IP1, 5,6) 192.169.${IP}.${IP1}
  ~SEQ(N, 3) 10.1.0.${N}
  ~SEQ(D, 3, 1) 10.2.0.${D}
}
$VI=vrrp_instance VI_${ID} { \
  virtual_router_id ${ID} \
}
~SEQ(ID, 1, 2) $VI
~SEQ(X, 1, 0, 3) never
~SEQ(X 1, 3) bad
after ${SUBNET}
)",
                               "k.conf", ".", "lb1");
    REQUIRE(r.nodes.size() >= 3);
    std::vector<std::string> got;
    for (const auto& n : r.nodes[0].children) got.push_back(n.keyword);
    CHECK(got == std::vector<std::string>{"10.0.0.1/24", "10.0.1.1/24", "10.0.2.1/24", "10.0.3.1/24",
                                          "fe80::20:90:1", "fe80::20:a0:1", "fe80::20:b0:1", "fe80::20:c0:1",
                                          "192.168.10.1", "192.168.20.4", "192.169.1.5", "192.169.1.6",
                                          "192.169.2.5", "192.169.2.6", "10.1.0.1", "10.1.0.2", "10.1.0.3",
                                          "10.2.0.3", "10.2.0.2", "10.2.0.1"});
    REQUIRE(r.nodes.size() == 4);
    for (int i = 0; i < 2; ++i) {  // a multi-line definition per value
        CHECK(r.nodes[1 + i].argTexts() == std::vector<std::string>{"VI_" + std::to_string(i + 1)});
        REQUIRE(r.nodes[1 + i].children.size() == 1);
        CHECK(r.nodes[1 + i].children[0].argTexts() == std::vector<std::string>{std::to_string(i + 1)});
    }
    // forgotten after its block: no value of the loop comes out
    CHECK(r.nodes[3].argTexts().at(0).find_first_of("0123456789abc") == std::string::npos);
    REQUIRE(r.problems.size() == 2);
    CHECK(r.problems[0].message == "a step of 0 never ends");
    CHECK(r.problems[1].message == "'X 1' is not a variable name");
    // loops are bounded: a huge one stops with one diagnostic
    const auto big = parseString("~SEQ(A, 1, 1000) ~SEQ(B, 1, 1000) x ${A}.${B}\n", "k.conf", ".", "lb1");
    CHECK((big.nodes.size() > 99000 && big.nodes.size() <= 100000));
    REQUIRE(big.problems.size() == 1);
    CHECK(big.problems[0].message.find("more than 100000 lines from loops") != std::string::npos);
}

TEST_CASE("import: virtual_routes as keepalived's man page writes them") {
    const auto r = conf::importKeepalivedString(R"(vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  virtual_ipaddress {
    192.168.200.10/24
  }
  virtual_routes {
    src 192.168.200.10 to 192.168.109.0/24 via 192.168.200.254 dev eth1
    192.168.110.0/24 via 192.168.200.254 dev eth1 metric 20
    192.168.111.0/24 dev eth2 no_track
    blackhole 192.168.114.0/24
    0.0.0.0/0 gw 192.168.0.1 table 100
    default via 192.168.0.2 table 101 scope global
    192.168.113.0/24 via 192.168.200.254 or 192.168.100.254 dev eth1
  }
}
)",
                                                "ka.conf", "lb1");
    for (const auto& d : r.loadErrors) INFO("load: " + d.str());
    CHECK(r.loadErrors.empty());
    // multipath ("or") is the one line not carried over
    REQUIRE(r.left.size() == 1);
    CHECK(r.left[0].line == 14);
    const conf::Config c = loadImported(r);
    const auto& rt = c.vrrpInstances.at(0).virtualRoutes;
    REQUIRE(rt.size() == 6);
    CHECK((rt[0].to.str() == "192.168.109.0/24" && rt[0].src->str() == "192.168.200.10" &&
           rt[0].via->str() == "192.168.200.254" && rt[0].dev == "eth1"));
    CHECK(rt[1].metric == 20);
    CHECK((rt[2].dev == "eth2" && !rt[2].via));
    CHECK((rt[3].type == "blackhole" && rt[3].to.str() == "192.168.114.0/24"));
    CHECK((rt[4].to.str() == "0.0.0.0/0" && rt[4].table == 100 && rt[4].via->str() == "192.168.0.1"));
    CHECK((rt[5].to.str() == "0.0.0.0/0" && rt[5].table == 101 && rt[5].scope == "global"));
}

TEST_CASE("import: static_routes come across as routes kept whatever the state") {
    const auto r = conf::importKeepalivedString(R"(static_routes {
  192.168.2.0/24 via 192.168.1.100 dev eth0
  blackhole 10.99.0.0/16
  192.168.100.0/24 table 6909 nexthop via 192.168.101.1 dev wlan0 onlink weight 1
}
virtual_server 10.0.3.1 80 {
  real_server 10.0.4.1 80 {
  }
}
)",
                                                "ka.conf", "lb1");
    for (const auto& d : r.loadErrors) INFO("load: " + d.str());
    CHECK(r.loadErrors.empty());
    REQUIRE(r.left.size() == 1);  // nexthop lists are not carried over, and say so
    CHECK(r.left[0].line == 4);
    const conf::Config c = loadImported(r);
    REQUIRE(c.staticRoutes.size() == 2);
    CHECK((c.staticRoutes[0].to.str() == "192.168.2.0/24" && c.staticRoutes[0].via->str() == "192.168.1.100" &&
           c.staticRoutes[0].dev == "eth0"));
    CHECK(c.staticRoutes[1].type == "blackhole");
}

TEST_CASE("keepalived syntax: a line read with keepalived's escapes (its regex)") {
    using conf::keepalived::escapedWords;
    using V = std::vector<std::string>;
    CHECK(escapedWords(R"(regex "^OK\.$")") == V{"regex", "^OK.$"});  // \. is '.', as keepalived reads it
    CHECK(escapedWords(R"(regex "^OK\\.$")") == V{"regex", R"(^OK\.$)"});
    CHECK(escapedWords(R"(regex '\x41\101\cA\t' b"c d"e)") == V{"regex", "AA\x01\t", "bc de"});
    CHECK(escapedWords(R"(regex \"x)") == V{"regex", "\"x"});
    CHECK_FALSE(escapedWords(R"(regex "open)"));
    CHECK_FALSE(escapedWords(R"(regex x\)"));
}

TEST_CASE("import: check sources, log_all_failures and the HTTP regex options come across") {
    const auto r = conf::importKeepalivedString(R"KA(global_defs {
  checker_log_all_failures
}
virtual_server 10.0.3.1 80 {
  delay_loop 5
  real_server 10.0.4.1 80 {
    HTTP_GET {
      bind_port 40123
      bind_if eth1
      fwmark 42
      log_all_failures no
      fast_recovery
      url {
        path /health
        regex "status: \\d+ \(ok\)"
        regex_options caseless multiline nosuch
        regex_min_offset 10
        regex_max_offset 200
        regex_stack 32768 524288
      }
      url {
        path /two
        regex_options caseless
      }
    }
    TCP_CHECK {
    }
    PING_CHECK {
      fwmark 7
    }
  }
}
)KA",
                                                "ka.conf", "lb1");
    for (const auto& d : r.loadErrors) INFO("load: " + d.str());
    CHECK(r.loadErrors.empty());
    REQUIRE(r.left.size() == 1);  // the ping check's fwmark: one socket per family
    CHECK(r.left[0].line == 28);
    const auto notes = keywords(r.notes);
    CHECK(std::count(notes.begin(), notes.end(), "12 fast_recovery") == 1);
    CHECK(std::count(notes.begin(), notes.end(), "16 regex_options") == 1);  // 'nosuch'
    CHECK(std::count(notes.begin(), notes.end(), "19 regex_stack") == 1);
    CHECK(std::count(notes.begin(), notes.end(), "21 url") == 1);  // options without a regex
    const conf::Config c = loadImported(r);
    const auto& checks = c.virtualServers.at(0).realServers.at(0).checks;
    REQUIRE(checks.size() == 4);
    const auto& h = checks[0];
    CHECK((h.bindPort == 40123 && h.bindInterface == "eth1" && h.fwmark == 42 && !h.logAllFailures));
    CHECK(h.regex == R"(status: \d+ (ok))");  // keepalived's escapes: "\\d" is \d, "\(" is (
    CHECK(h.regexOptions == std::vector<std::string>{"caseless", "multiline"});
    CHECK((h.regexMinOffset == 10 && h.regexMaxOffset == 200 && h.regexHeaders));
    CHECK((checks[1].regex.empty() && checks[1].regexOptions.empty() && !checks[1].regexHeaders));
    CHECK((checks[2].type == conf::CheckType::Tcp && checks[2].logAllFailures));  // checker_log_all_failures
    CHECK((checks[3].type == conf::CheckType::Ping && checks[3].fwmark == 0));
}

TEST_CASE("keepalived syntax: ${_RANDOM [MIN [MAX]]} and ${_ENV NAME}, as keepalived expands them") {
    ::setenv("DIRECTORD_TEST_VIP", "10.0.0.10/24", 1);
    ::unsetenv("DIRECTORD_TEST_UNSET");
    const char* text = R"(global_defs {
  random_seed 42
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id ${_RANDOM 1 255}
  priority ${_RANDOM 100 200}
  advert_int ${_RANDOM 3 3}
  virtual_ipaddress {
    ${_ENV DIRECTORD_TEST_VIP}
  }
  notify_master "/bin/echo [${_ENV DIRECTORD_TEST_UNSET}] ${_ENV} ${_RANDOM x} ${_RANDOM 1 2 3} ${ _RANDOM}"
}
)";
    const auto r = conf::importKeepalivedString(text, "ka.conf", "lb1");
    for (const auto& d : r.left) INFO("left: " + d.str());
    for (const auto& d : r.loadErrors) INFO("load: " + d.str());
    REQUIRE(r.loadErrors.empty());
    const conf::Config c = loadImported(r);
    REQUIRE(c.vrrpInstances.size() == 1);
    const auto& v = c.vrrpInstances[0];
    // glibc's random() after srandom(42), as keepalived draws: value % (max - min + 1) + min
    ::srandom(42);
    const long vrid = ::random() % 255 + 1, prio = ::random() % 101 + 100;
    CHECK(v.vrid == vrid);
    CHECK(v.priority == prio);
    CHECK(v.advertInterval == std::chrono::seconds(3));
    REQUIRE(v.virtualAddresses.size() == 1);
    CHECK(v.virtualAddresses[0].prefix.str() == "10.0.0.10/24");
    // an unset variable is empty; a malformed use is left as written
    CHECK(v.notify.master.argv ==
          std::vector<std::string>{"/bin/echo", "[]", "${_ENV}", "${_RANDOM", "x}", "${_RANDOM", "1", "2", "3}",
                                   "${", "_RANDOM}"});
    const auto again = conf::importKeepalivedString(text, "ka.conf", "lb1");
    CHECK(again.text == r.text);  // the same seed: the same config
}

TEST_CASE("import: static_ipaddress, on default_interface where no dev is given") {
    const auto r = conf::importKeepalivedString(R"(global_defs {
  default_interface bond0
}
static_ipaddress {
  192.168.1.1/24 dev eth1 scope global label eth1:1
  10.1.1.1/32
  fd00::1/64 dev eth2
}
)",
                                                "ka.conf", "lb1");
    for (const auto& d : r.left) INFO("left: " + d.str());
    CHECK(r.left.empty());
    CHECK(r.loadErrors.empty());
    const conf::Config c = loadImported(r);
    REQUIRE(c.staticAddresses.size() == 3);
    CHECK((c.staticAddresses[0].prefix.str() == "192.168.1.1/24" && c.staticAddresses[0].dev == "eth1" &&
           c.staticAddresses[0].label == "eth1:1"));
    CHECK((c.staticAddresses[1].prefix.str() == "10.1.1.1/32" && c.staticAddresses[1].dev == "bond0"));
    CHECK(c.staticAddresses[2].dev == "eth2");
    const auto plain = conf::importKeepalivedString("static_ipaddress {\n  10.1.1.1/32\n}\n", "ka.conf", "lb1");
    CHECK(loadImported(plain).staticAddresses.at(0).dev == "eth0");  // keepalived's DFLT_INT
}

TEST_CASE("import: the startup delays and the advert options, with keepalived's defaults") {
    // check_unicast_src and skip_check_adv_addr are what directord does anyway: nothing left out
    const auto r = conf::importKeepalivedString(R"(global_defs {
  vrrp_startup_delay 5.5
  vrrp_delay_after_boot 30
  vrrp_lower_prio_no_advert
  vrrp_check_unicast_src
  vrrp_skip_check_adv_addr
}
vrrp_instance A {
  interface eth0
  virtual_router_id 1
  virtual_ipaddress {
    10.0.0.1/24
  }
}
vrrp_instance B {
  interface eth0
  virtual_router_id 2
  lower_prio_no_advert false
  higher_prio_send_advert
  check_unicast_src
  skip_check_adv_addr
  virtual_ipaddress {
    10.0.0.2/24
  }
}
)",
                                                "ka.conf", "lb1");
    for (const auto& d : r.left) INFO("left: " + d.str());
    CHECK(r.left.empty());
    const conf::Config c = loadImported(r);
    CHECK(c.global.vrrpStartupDelay == std::chrono::milliseconds(5500));
    CHECK(c.global.vrrpDelayAfterBoot == std::chrono::seconds(30));
    REQUIRE(c.vrrpInstances.size() == 2);
    CHECK((c.vrrpInstances[0].lowerPrioNoAdvert && !c.vrrpInstances[0].higherPrioSendAdvert));  // keepalived's
    CHECK((!c.vrrpInstances[1].lowerPrioNoAdvert && c.vrrpInstances[1].higherPrioSendAdvert));
}

TEST_CASE("import: bfd_instance and BFD_CHECK come across, with keepalived's units and refusals") {
    const auto r = conf::importKeepalivedString(R"(bfd_instance gw {
  neighbor_ip 10.0.2.1
  source_ip 10.0.2.10
  min_rx 50
  min_tx 20.5
  idle_tx 2000
  multiplier 3
  passive
  max_hops 2
  checker
}
bfd_instance gw6 {
  neighbour_ip 2001:db8::1
  hoplimit 255
  multihop
}
bfd_instance dup {
  neighbor_ip 10.0.2.1
  source_ip 10.0.2.10
}
bfd_instance none {
  min_rx 10
}
virtual_server 10.0.3.1 80 {
  protocol TCP
  real_server 10.0.4.1 80 {
    BFD_CHECK {
      name gw
    }
    BFD_CHECK {
      name dup
    }
  }
  real_server 10.0.4.2 80 {
    BFD_CHECK {
      name gw6
    }
  }
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 100
  virtual_ipaddress {
    10.0.0.10/24
  }
  track_bfd {
    gw weight -20 reverse
    gw6
    nosuch
  }
}
)",
                                                "ka.conf", "lb1");
    INFO(r.text);
    CHECK(r.loadErrors.empty());
    // keepalived drops the duplicate neighbor and the instance with none, and the check naming
    // the dropped one
    CHECK(keywords(r.left) == std::vector<std::string>{"17 bfd_instance", "21 bfd_instance", "30 BFD_CHECK", "50 nosuch"});
    const conf::Config c = loadImported(r);
    REQUIRE(c.bfdInstances.size() == 2);
    const auto& gw = c.bfdInstances[0];
    CHECK((gw.name == "gw" && gw.neighbor->str() == "10.0.2.1" && gw.source->str() == "10.0.2.10"));
    CHECK(gw.minRx == std::chrono::milliseconds(50));  // keepalived's unit is the millisecond
    CHECK(gw.minTx == std::chrono::microseconds(20500));
    CHECK(gw.idleTx == std::chrono::seconds(2));
    CHECK((gw.multiplier == 3 && gw.passive && gw.maxHops == 2 && gw.ttl == 255 && !gw.multihop));
    CHECK((c.bfdInstances[1].neighbor->str() == "2001:db8::1" && c.bfdInstances[1].multihop));
    const auto& rs = c.virtualServers.at(0).realServers;
    REQUIRE(rs.at(0).checks.size() == 1);
    CHECK((rs[0].checks[0].type == conf::CheckType::Bfd && rs[0].checks[0].bfd == "gw"));
    CHECK(rs.at(1).checks.at(0).bfd == "gw6");
    const auto& v = c.vrrpInstances.at(0);
    REQUIRE(v.trackBfds.size() == 2);  // the one naming no bfd_instance is dropped, as keepalived does
    CHECK((v.trackBfds[0].bfd == "gw" && v.trackBfds[0].weight == -20 && v.trackBfds[0].reverse == true));
    CHECK((v.trackBfds[1].bfd == "gw6" && !v.trackBfds[1].weight));
}

TEST_CASE("import: virtual_rules and static_rules come across; words directord's rules lack leave the line") {
    const auto r = conf::importKeepalivedString(R"(static_rules {
    from 192.168.28.0/24 table 1234 priority 100
    to 10.9.0.0/16 fwmark 0x7/0xff blackhole
    inet6 iif eth1 lookup 200
    from 1.2.3.4 uidrange 1-2 table 5
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 100
    virtual_ipaddress {
        10.0.0.10/24
    }
    virtual_rules {
        from 10.0.0.10 table 100 no_track
        to 10.1.0.0/16
    }
}
)",
                                                "ka.conf", "lb1");
    INFO(r.text);
    CHECK(r.loadErrors.empty());
    CHECK(keywords(r.left) == std::vector<std::string>{"5 from", "16 to"});
    const conf::Config c = loadImported(r);
    REQUIRE(c.staticRules.size() == 3);
    CHECK(conf::ruleText(c.staticRules[0]) == "pref 100 from 192.168.28.0/24 lookup 1234");
    CHECK(conf::ruleText(c.staticRules[1]) == "from all to 10.9.0.0/16 fwmark 0x7/0xff blackhole");
    CHECK((c.staticRules[2].family == base::Family::V6 && c.staticRules[2].iif == "eth1" && c.staticRules[2].table == 200));
    REQUIRE(c.vrrpInstances.at(0).virtualRules.size() == 1);
    CHECK(conf::ruleText(c.vrrpInstances[0].virtualRules[0]) == "from 10.0.0.10/32 lookup 100");
}

// Both found by vm:keepalived_corpus on keepalived's own samples (vrrp.lvs_syncd, conditional_conf):
// what keepalived 2.2.7 read from them differed from what the import made of them.
TEST_CASE("import: sync group members outside group { } and a vrrp_script with no script, as keepalived 2 reads them") {
    const auto r = conf::importKeepalivedString(R"(vrrp_sync_group VG1 {
  VI_1
  VI_2
}
vrrp_sync_group VG2 {
  group {
    VI_1
  }
}
vrrp_script chk_none {
  interval 1
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  virtual_ipaddress {
    10.0.0.10/24
  }
  track_script {
    chk_none
  }
}
vrrp_instance VI_2 {
  interface eth0
  virtual_router_id 52
  virtual_ipaddress {
    10.0.0.11/24
  }
}
)",
                                                "ka.conf", "");
    INFO(r.text);
    CHECK(r.loadErrors.empty());
    CHECK(r.left.empty());
    const conf::Config c = loadImported(r);
    // VG1's bare names are not members under keepalived 2 ("Unknown keyword"); the empty group goes
    REQUIRE(c.syncGroups.size() == 1);
    CHECK(c.syncGroups[0].name == "VG2");
    CHECK(c.syncGroups[0].members == std::vector<std::string>{"VI_1"});
    // keepalived removes a vrrp_script with no script, and the track_script naming it
    CHECK(c.vrrpScripts.empty());
    CHECK(c.vrrpInstances.at(0).trackScripts.empty());
    CHECK(keywords(r.notes) ==
          std::vector<std::string>{"1 vrrp_sync_group", "1 script_user", "2 VI_1", "3 VI_2", "10 vrrp_script", "20 chk_none"});
}

// keepalived 2.2.7's reading of its SMTP_CHECK sample (vm:keepalived_corpus): one checker per host,
// the first host replacing the main one when the main block names no connection of its own.
TEST_CASE("import: SMTP_CHECK host blocks become one smtp check each, as keepalived 2 runs them") {
    const auto r = conf::importKeepalivedString(R"(virtual_server 10.0.0.1 25 {
  connect_timeout 7
  real_server 10.0.1.1 25 {
    SMTP_CHECK {
      helo_name lb.example
      host {
        connect_ip 10.0.2.1
        connect_port 587
      }
      host {
        connect_ip 10.0.2.2
        connect_timeout 3
        bindto 10.0.0.2
      }
    }
  }
  real_server 10.0.1.2 25 {
    SMTP_CHECK {
      connect_timeout 9
      host {
        connect_ip 10.0.2.3
      }
    }
  }
}
)",
                                                "ka.conf", "");
    INFO(r.text);
    CHECK(r.left.empty());
    const conf::Config c = loadImported(r);
    const auto& a = c.virtualServers.at(0).realServers.at(0).checks;
    REQUIRE(a.size() == 2);  // no check of 10.0.1.1 itself: the first host took the main one's place
    CHECK((a[0].connectIp == ip("10.0.2.1") && a[0].connectPort == 587 && a[0].heloName == "lb.example"));
    CHECK(a[0].connectTimeout.value_or(c.virtualServers[0].connectTimeout) == std::chrono::seconds(7));
    CHECK((a[1].connectIp == ip("10.0.2.2") && a[1].bindIp == ip("10.0.0.2")));
    CHECK(a[1].connectTimeout == std::chrono::seconds(3));
    const auto& b = c.virtualServers.at(0).realServers.at(1).checks;
    REQUIRE(b.size() == 2);  // the main block has a connect_timeout of its own: it stays
    CHECK((!b[0].connectIp && b[0].connectTimeout == std::chrono::seconds(9)));
    CHECK(b[1].connectIp == ip("10.0.2.3"));
}

// keepalived 2.2.7 on a public config (tests/corpus/keepalived/02-...): an IPv6 VIP in an IPv4
// instance is ignored ("address family must match VRRP instance"); as excluded, it is kept.
TEST_CASE("import: a VIP of the other family is ignored in virtual_ipaddress, kept in _excluded") {
    const auto r = conf::importKeepalivedString(R"(vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  virtual_ipaddress {
    10.0.0.10/24
    2001:db8::15/64
  }
  virtual_ipaddress_excluded {
    2001:db8::16/64
  }
}
)",
                                                "ka.conf", "");
    INFO(r.text);
    CHECK((r.loadErrors.empty() && r.left.empty()));
    const conf::Config c = loadImported(r);
    const auto& v = c.vrrpInstances.at(0);
    CHECK(v.family == base::Family::V4);
    REQUIRE(v.virtualAddresses.size() == 1);
    CHECK(v.virtualAddresses[0].prefix.str() == "10.0.0.10/24");
    REQUIRE(v.excludedAddresses.size() == 1);
    CHECK(v.excludedAddresses[0].prefix.str() == "2001:db8::16/64");
    CHECK(keywords(r.notes) == std::vector<std::string>{"1 script_user", "6 2001:db8::15/64"});
}

// A public config (tests/corpus/keepalived/01-...) has garp_master_delay in global_defs, where
// keepalived says "Unknown keyword" and ignores it: so does the import, with a note.
TEST_CASE("import: an instance keyword in global_defs is ignored there, as keepalived ignores it") {
    const auto r = conf::importKeepalivedString(R"(global_defs {
  garp_master_delay 3
  frobnicate 1
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  virtual_ipaddress {
    10.0.0.10/24
  }
}
)",
                                                "ka.conf", "");
    CHECK(keywords(r.left) == std::vector<std::string>{"3 frobnicate"});  // a typo stays a finding
    bool said = false;
    for (const auto& n : r.notes)
        said |= n.line == 2 && n.message.find("the global one is vrrp_garp_master_delay") != std::string::npos;
    CHECK(said);
    CHECK(conf::keepalived::isGlobalKeyword("vrrp_garp_master_delay"));
    CHECK_FALSE(conf::keepalived::isGlobalKeyword("garp_master_delay"));
}

TEST_CASE("import: use_vmac and vmac_xmit_base as keepalived reads them") {
    const auto r = conf::importKeepalivedString(R"(vrrp_instance A {
  interface eth0
  virtual_router_id 51
  use_vmac
  virtual_ipaddress {
    10.0.0.1/24
  }
}
vrrp_instance B {
  interface eth0
  virtual_router_id 52
  use_vmac name vmac52 netlink_notify_msg
  vmac_xmit_base
  virtual_ipaddress {
    10.0.0.2/24
  }
}
vrrp_instance C {
  interface eth0
  virtual_router_id 53
  use_vmac vm53
  unicast_peer {
    10.0.0.9
  }
  virtual_ipaddress {
    10.0.0.3/24
  }
}
)",
                                                "vmac.conf", "x");
    INFO(r.text);
    REQUIRE(r.left.empty());
    const auto loaded = conf::loadString(r.text, "imported.conf");
    INFO((loaded.diagnostics.empty() ? std::string() : loaded.diagnostics.front().str()));
    REQUIRE(loaded.config);
    const auto& v = loaded.config->vrrpInstances;
    REQUIRE(v.size() == 3);
    CHECK(v[0].vmac.enabled);
    CHECK(v[0].vmac.name == "vrrp.51");  // keepalived's name, chosen at load
    CHECK_FALSE(v[0].vmac.xmitBase);
    CHECK(v[1].vmac.enabled);
    CHECK(v[1].vmac.name == "vmac52");
    CHECK(v[1].vmac.xmitBase);
    // keepalived: "unicast with use_vmac requires vmac_xmit_base - setting"
    CHECK(v[2].vmac.name == "vm53");
    CHECK(v[2].vmac.xmitBase);
    bool noted = false;
    for (const auto& n : r.notes) noted |= n.message.find("vmac_xmit_base") != std::string::npos;
    CHECK(noted);
}

TEST_CASE("import: vrrp_strict, strict_mode, accept and no_accept as keepalived reads them") {
    const auto r = conf::importKeepalivedString(R"(global_defs {
  vrrp_strict
}
vrrp_instance STRICT {
  interface eth0
  state MASTER
  priority 100
  virtual_router_id 51
  preempt_delay 5
  higher_prio_send_advert
  authentication {
    auth_type PASS
    auth_pass secret
  }
  virtual_ipaddress {
    10.0.0.1/24
  }
}
vrrp_instance OWNER {
  interface eth0
  priority 255
  virtual_router_id 52
  version 3
  virtual_ipaddress {
    10.0.0.2/24
  }
}
vrrp_instance LAX {
  interface eth0
  strict_mode off
  virtual_router_id 53
  virtual_ipaddress {
    10.0.0.3/24
  }
}
vrrp_instance NOACCEPT {
  interface eth0
  strict_mode off
  no_accept
  virtual_router_id 54
  virtual_ipaddress {
    10.0.0.4/24
  }
}
vrrp_instance V2ACCEPT {
  interface eth0
  accept
  virtual_router_id 55
  virtual_ipaddress {
    10.0.0.5/24
  }
}
)",
                                                "strict.conf", "x");
    INFO(r.text);
    REQUIRE(r.left.empty());
    const auto cfg = loadImported(r);
    const auto& v = cfg.vrrpInstances;
    REQUIRE(v.size() == 5);
    // strict: authentication, preempt_delay, higher_prio_send_advert and state MASTER (not the
    // owner) reset, lower_prio_no_advert set, accept off
    CHECK(v[0].authType == conf::AuthType::None);
    CHECK(v[0].preemptDelay == base::Duration::zero());
    CHECK_FALSE(v[0].higherPrioSendAdvert);
    CHECK(v[0].lowerPrioNoAdvert);
    CHECK_FALSE(v[0].initialMaster);
    CHECK_FALSE(v[0].acceptMode);
    CHECK(v[1].acceptMode);  // the owner accepts
    CHECK(v[2].acceptMode);  // strict_mode off: keepalived's default, accept
    CHECK_FALSE(v[3].acceptMode);
    CHECK_FALSE(v[4].acceptMode);  // strict VRRPv2: accept does not comply with RFC 3768, reset
    size_t strictNotes = 0;
    for (const auto& n : r.notes) strictNotes += n.message.rfind("strict mode:", 0) == 0;
    CHECK(strictNotes == 5);  // STRICT: auth, preempt_delay, state, higher_prio; V2ACCEPT: accept
}

TEST_CASE("import: garp_lower_prio_* default to the global garp settings; notify_master_rx_lower_pri") {
    const auto r = conf::importKeepalivedString(R"(global_defs {
  vrrp_garp_master_repeat 3
  vrrp_garp_master_delay 4
}
vrrp_instance A {
  interface eth0
  virtual_router_id 51
  garp_master_repeat 7
  virtual_ipaddress {
    10.0.0.1/24
  }
}
vrrp_instance B {
  interface eth0
  virtual_router_id 52
  garp_lower_prio_repeat 1
  garp_lower_prio_delay 2
  notify_master_rx_lower_pri "/usr/bin/logger lower"
  virtual_ipaddress {
    10.0.0.2/24
  }
}
)",
                                                "lower.conf", "x");
    INFO(r.text);
    REQUIRE(r.left.empty());
    const auto cfg = loadImported(r);
    const auto& a = cfg.vrrpInstances.at(0).garp;
    CHECK(a.masterRepeat == 7);
    CHECK(a.lowerPrioRepeat == 3);  // keepalived: the global repeat, not the instance's own
    CHECK(a.lowerPrioDelay == std::chrono::seconds(4));
    const auto& b = cfg.vrrpInstances.at(1);
    CHECK(b.garp.lowerPrioRepeat == 1);
    CHECK(b.garp.lowerPrioDelay == std::chrono::seconds(2));
    CHECK(b.notifyMasterRxLowerPri.argv == std::vector<std::string>{"/usr/bin/logger", "lower"});
}

TEST_CASE("import: a vrrp_script's init_fail") {
    const auto r = conf::importKeepalivedString(R"(vrrp_script chk {
  script "/bin/true"
  init_fail
  rise 2
}
vrrp_instance A {
  interface eth0
  virtual_router_id 51
  track_script {
    chk
  }
  virtual_ipaddress {
    10.0.0.1/24
  }
}
)",
                                                "init.conf", "x");
    INFO(r.text);
    REQUIRE(r.left.empty());
    const auto cfg = loadImported(r);
    CHECK(cfg.vrrpScripts.at(0).initFail);
    CHECK(cfg.vrrpScripts.at(0).rise == 2);
}

TEST_CASE("import: unicast_fault_no_peer") {
    const auto r = conf::importKeepalivedString(R"(vrrp_instance A {
  interface eth0
  virtual_router_id 51
  unicast_fault_no_peer
  virtual_ipaddress {
    10.0.0.1/24
  }
}
)",
                                                "nopeer.conf", "x");
    INFO(r.text);
    REQUIRE(r.left.empty());
    const auto cfg = loadImported(r);
    CHECK(cfg.vrrpInstances.at(0).unicastFaultNoPeer);
    CHECK(cfg.vrrpInstances.at(0).unicastPeers.empty());
}

TEST_CASE("import: vrrp_track_process and an instance's track_process come across") {
    const auto r = conf::importKeepalivedString(R"(vrrp_track_process haproxy {
  process /usr/sbin/haproxy -f /etc/haproxy/haproxy.cfg
  param_match partial
  weight -30
  quorum 2
  delay 1.5
}
vrrp_track_process single {
  process nginx
  quorum_max 1
  fork_delay 0.25
  weight 10 reverse
}
vrrp_track_process nothing {
  quorum 1
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 100
  virtual_ipaddress {
    10.0.0.10/24
  }
  track_process {
    haproxy
    single weight -5
    nothing
  }
}
)",
                                                "ka.conf", "lb1");
    INFO(r.text);
    for (const auto& d : r.left) INFO("left: " + d.str());
    CHECK(r.loadErrors.empty());
    // a vrrp_track_process with no process, and the reference to it, are what keepalived drops
    REQUIRE(r.left.size() == 2);
    CHECK(r.left[0].str().find("no process") != std::string::npos);
    CHECK(r.left[1].str().find("nothing") != std::string::npos);
    const conf::Config c = loadImported(r);
    using M = conf::TrackProcess::ParamMatch;
    REQUIRE(c.trackProcesses.size() == 2);
    const auto& h = c.trackProcesses[0];
    CHECK((h.name == "haproxy" && h.process == "/usr/sbin/haproxy" &&
           h.params == std::vector<std::string>{"-f", "/etc/haproxy/haproxy.cfg"} && h.paramMatch == M::Partial &&
           h.fullCommand && h.weight == -30 && h.quorum == 2 && h.forkDelay == std::chrono::milliseconds(1500) &&
           h.terminateDelay == std::chrono::milliseconds(1500)));
    const auto& s = c.trackProcesses[1];
    CHECK((s.process == "nginx" && !s.fullCommand && s.quorumMax == 1 && s.weight == 10 && s.reverse &&
           s.forkDelay == std::chrono::milliseconds(250) && s.terminateDelay == base::Duration::zero()));
    const auto& v = c.vrrpInstances.at(0);
    REQUIRE(v.trackProcesses.size() == 2);
    CHECK((v.trackProcesses[0].process == "haproxy" && !v.trackProcesses[0].weight));
    CHECK((v.trackProcesses[1].process == "single" && v.trackProcesses[1].weight == -5));
}

TEST_CASE("import: keepalived 2.4's auth_hmac, and the configs keepalived runs unsigned") {
    const std::string key = "hex:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const auto r = conf::importKeepalivedString(R"(vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  version 3
  auth_hmac {
    key 1 )" + key + R"(
    key 2 this-is-a-thirty-two-byte-key-ok!
    active_key 2
    anti_replay monotonic
    time_window 20
    mode permissive
  }
  virtual_ipaddress {
    10.0.0.10/24
  }
}
vrrp_instance VI_2 {
  interface eth0
  virtual_router_id 52
  auth_hmac {
    key 1 )" + key + R"(
  }
  virtual_ipaddress {
    10.0.0.20/24
  }
}
)",
                                                "ka.conf", "x");
    INFO(r.text);
    CHECK(r.complete());
    const conf::Config c = loadImported(r);
    const auto& h = c.vrrpInstances.at(0).authHmac;
    REQUIRE(h.enabled);
    REQUIRE(h.keys.size() == 2);
    CHECK(h.keys[0].id == 1);
    CHECK(h.keys[0].bytes.size() == 32);
    // '!' starts a comment in keepalived's syntax: the key is the 32 bytes before it, as keepalived reads it
    CHECK(std::string(h.keys[1].bytes.begin(), h.keys[1].bytes.end()) == "this-is-a-thirty-two-byte-key-ok");
    CHECK(h.activeKey == 2);
    CHECK_FALSE(h.antiReplayTime);
    CHECK(h.timeWindow == 20);
    CHECK(h.mode == conf::HmacMode::Permissive);
    // no active_key: keepalived disables the extension and sends unsigned adverts; so does the import, with a note
    CHECK_FALSE(c.vrrpInstances.at(1).authHmac.enabled);
    bool noted = false;
    for (const auto& n : r.notes) noted |= n.message.find("keepalived disables auth_hmac") != std::string::npos;
    CHECK(noted);
}

TEST_CASE("import: a sync group's tracking, as keepalived applies it to the members") {
    const std::string common = R"(vrrp_script chk_own {
  script "/bin/true"
  weight 10
}
vrrp_script chk_status {
  script "/bin/true"
}
vrrp_script chk_group {
  script "/bin/true"
}
track_file load {
  file "/run/load"
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 100
  track_interface {
    eth1 weight 5
    eth3
  }
  track_script {
    chk_own
    chk_status
  }
  track_file {
    load
  }
  virtual_ipaddress {
    10.0.0.10/24
  }
}
vrrp_instance VI_2 {
  interface eth0
  virtual_router_id 52
  priority 100
  track_script {
    chk_group weight 5
  }
  virtual_ipaddress {
    10.0.0.20/24
  }
}
)";
    auto load = [&](const std::string& group) {
        const auto r = conf::importKeepalivedString(common + group, "ka.conf", "x");
        INFO(r.text);
        CHECK(r.complete());
        return std::make_pair(loadImported(r), r);
    };
    // without sync_group_tracking_weight: members' weighted items cannot move one member alone
    auto [c, r] = load(R"(vrrp_sync_group G1 {
  group {
    VI_1
    VI_2
  }
  track_interface {
    eth2 weight 7
  }
  track_script {
    chk_group weight 20
  }
}
)");
    const auto& v1 = c.vrrpInstances.at(0);
    REQUIRE(v1.trackInterfaces.size() == 3);
    CHECK(v1.trackInterfaces[0].interface == "eth1");
    CHECK(v1.trackInterfaces[0].weight == 0);  // "ignoring eth1 tracked interface weight due to SYNC group"
    CHECK(v1.trackInterfaces[1].weight == 0);
    CHECK(v1.trackInterfaces[2].interface == "eth2");
    CHECK(v1.trackInterfaces[2].weight == 7);  // the group's own items keep their weights
    REQUIRE(v1.trackScripts.size() == 2);      // chk_own (weight 10) dropped; chk_status kept; the group's added
    CHECK(v1.trackScripts[0].script == "chk_status");
    CHECK(v1.trackScripts[1].script == "chk_group");
    CHECK(v1.trackScripts[1].weight == 20);
    REQUIRE(v1.trackFiles.size() == 1);
    CHECK(v1.trackFiles[0].weight == 0);  // weight 1 (the default) becomes a status
    const auto& v2 = c.vrrpInstances.at(1);
    REQUIRE(v2.trackScripts.size() == 1);  // its own weighted chk_group is dropped, the group's merged in
    CHECK(v2.trackScripts[0].weight == 20);
    int notes = 0;
    for (const auto& n : r.notes) notes += n.message.find("due to SYNC group G1") != std::string::npos;
    CHECK(notes == 4);  // eth1's weight, chk_own, load's weight, VI_2's chk_group; nothing else
    // with sync_group_tracking_weight: the members' own items stay as written
    auto [cw, rw] = load(R"(vrrp_sync_group G1 {
  group {
    VI_1
    VI_2
  }
  sync_group_tracking_weight
  track_script {
    chk_group weight 20
  }
}
)");
    const auto& w1 = cw.vrrpInstances.at(0);
    CHECK(w1.trackInterfaces.at(0).weight == 5);
    CHECK(w1.trackScripts.size() == 3);
    CHECK_FALSE(w1.trackFiles.at(0).weight);
    CHECK(cw.vrrpInstances.at(1).trackScripts.at(0).weight == 20);  // a member's own weighted item takes the group's
    (void)rw;
}
