// The one header that includes Boost.Asio. Under -std=c++20 Asio 1.18 needs <utility> first
// (it uses std::exchange without including it); include Asio only through this header.
#pragma once
#include <utility>
#include <boost/asio.hpp>

namespace asio = boost::asio;
