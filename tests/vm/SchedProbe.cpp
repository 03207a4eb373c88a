// sched_probe: runs one of the userspace plane's schedulers on a script read from stdin, so a test
// inside the IPVS VM can put the same destinations and clients through the kernel and through us.
//   sched_probe NAME [FLAGS]       FLAGS: the service's flag word (1 = sched1/fallback, 2 = sched2/port)
//   dest ADDR PORT WEIGHT LASTWEIGHT   (in the kernel's list order: newest first)
//   update                             (the kernel's add/upd/del_dest hook)
//   pick SRC SPORT DST                 prints the chosen "ADDR:PORT", or "-"
#include <iostream>
#include <sstream>
#include <string>

#include "kmod/sched/Scheduler.h"

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << "usage: sched_probe NAME [FLAGS] < script\n";
        return 2;
    }
    auto sched = kmod::sched::makeScheduler(argv[1], argc > 2 ? static_cast<std::uint32_t>(std::stoul(argv[2])) : 0);
    if (!sched) {
        std::cerr << "sched_probe: no scheduler " << argv[1] << "\n";
        return 2;
    }
    std::vector<kmod::sched::SchedDest> dests, pending;
    std::string line;
    while (std::getline(std::cin, line)) {
        std::istringstream in(line);
        std::string cmd, a, c;
        in >> cmd;
        if (cmd == "dest") {
            kmod::sched::SchedDest d;
            unsigned port = 0;
            in >> a >> port >> d.weight >> d.lastWeight;
            auto addr = base::IpAddress::parse(a);
            if (!addr) return std::cerr << "bad address " << a << "\n", 2;
            d.address = *addr;
            d.port = static_cast<std::uint16_t>(port);
            pending.push_back(d);
        } else if (cmd == "update") {
            dests = std::move(pending);
            pending.clear();
            sched->update(dests);
        } else if (cmd == "pick") {
            unsigned sport = 0;
            in >> a >> sport >> c;
            kmod::sched::SchedPacket p;
            p.source = *base::IpAddress::parse(a);
            p.sourcePort = static_cast<std::uint16_t>(sport);
            p.destination = *base::IpAddress::parse(c);
            auto i = sched->pick(dests, p);
            if (!i) std::cout << "-\n";
            else if (dests[*i].address.isV4()) std::cout << dests[*i].address.str() << ":" << dests[*i].port << "\n";
            else std::cout << "[" << dests[*i].address.str() << "]:" << dests[*i].port << "\n";
        }
    }
    return 0;
}
