// The one header that includes Boost.Asio. Under -std=c++20 Asio 1.18 needs <utility> first
// (it uses std::exchange without including it); include Asio only through this header.
#pragma once
// clang-format off
#include <utility>
#include <boost/asio.hpp>
// clang-format on

namespace asio = boost::asio;
