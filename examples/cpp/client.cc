// A krakengw client in C++: log on, read the execution stream, place an order that rests,
// cancel it, place a market order and wait for its fill, then log out.
//
//   krakengw_example HOST:PORT TOKEN [SYMBOL] [RESTING_PRICE] [QTY]
//
// Prints one line per step ("logon ...", "placed ...", "canceled ...", "report ...", "fill ...",
// "error ...", "logout ..."); exits 0 when every step succeeded, 1 otherwise.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "krakengw/v1/executions.grpc.pb.h"
#include "krakengw/v1/orders.grpc.pb.h"
#include "krakengw/v1/sessions.grpc.pb.h"

namespace v1 = krakengw::v1;

namespace {

constexpr auto kCallTimeout = std::chrono::seconds(10);
constexpr auto kWaitTimeout = std::chrono::seconds(30);

// The id Logon returned: every later call carries it (the gateway binds calls to their logon).
std::string logon_id;

void Authorize(grpc::ClientContext& ctx, const std::string& token) {
  ctx.AddMetadata("authorization", "Bearer " + token);
  if (!logon_id.empty()) ctx.AddMetadata("krakengw-logon-id", logon_id);
}

// Every call carries the session's bearer token, the logon id once known, and a deadline.
void Prepare(grpc::ClientContext& ctx, const std::string& token) {
  Authorize(ctx, token);
  ctx.set_deadline(std::chrono::system_clock::now() + kCallTimeout);
}

// The gateway's ErrorInfo reason (ERROR_REASON_ prefix removed) from a failed call's status.
std::string Reason(const grpc::Status& status) {
  google::rpc::Status details;
  if (!details.ParseFromString(status.error_details())) return "";
  for (const auto& any : details.details()) {
    google::rpc::ErrorInfo info;
    if (any.UnpackTo(&info)) {
      const std::string prefix = "ERROR_REASON_";
      std::string reason = info.reason();
      if (reason.rfind(prefix, 0) == 0) reason = reason.substr(prefix.size());
      return reason;
    }
  }
  return "";
}

bool Check(const grpc::Status& status, const std::string& what) {
  if (status.ok()) return true;
  std::cout << "error " << what << " code=" << status.error_code()
            << " reason=" << Reason(status) << " message=" << status.error_message() << std::endl;
  return false;
}

// Reports seen on the execution stream, for the main thread to wait on.
struct Reports {
  std::mutex mu;
  std::condition_variable changed;
  std::string filled_id;
  std::string canceled_id;
  bool ended = false;
};

void ReadStream(v1::ExecutionService::Stub* stub, uint64_t from, grpc::ClientContext* ctx,
                Reports* seen) {
  v1::StreamExecutionsRequest request;
  request.set_from_sequence(from);
  request.set_max_batch(64);
  auto reader = stub->StreamExecutions(ctx, request);
  v1::StreamExecutionsResponse message;
  auto handle = [&](const v1::ExecutionReport& r) {
    std::cout << "report " << r.sequence() << " " << v1::ExecType_Name(r.exec_type()) << " "
              << r.client_order_id() << " cum_qty=" << r.cum_qty() << std::endl;
    std::lock_guard<std::mutex> lock(seen->mu);
    if (r.exec_type() == v1::EXEC_TYPE_FILL) {
      std::cout << "fill " << r.client_order_id() << " qty=" << r.last_qty()
                << " price=" << r.last_px() << std::endl;
      seen->filled_id = r.client_order_id();
    }
    if (r.exec_type() == v1::EXEC_TYPE_CANCELED) seen->canceled_id = r.client_order_id();
    seen->changed.notify_all();
  };
  while (reader->Read(&message)) {
    if (message.has_execution_report()) handle(message.execution_report());
    for (const auto& r : message.execution_reports().reports()) handle(r);
  }
  reader->Finish();  // cancelled by the main thread at the end
  std::lock_guard<std::mutex> lock(seen->mu);
  seen->ended = true;
  seen->changed.notify_all();
}

bool Submit(v1::OrderService::Stub* orders, const std::string& token, const std::string& id,
            const std::string& symbol, const std::string& qty, const std::string& price) {
  grpc::ClientContext ctx;
  Prepare(ctx, token);
  v1::SubmitOrderRequest request;
  auto* spec = request.mutable_order();
  spec->set_client_order_id(id);
  spec->mutable_instrument()->set_symbol(symbol);
  spec->set_side(v1::SIDE_BUY);
  spec->set_order_type(price.empty() ? v1::ORDER_TYPE_MARKET : v1::ORDER_TYPE_LIMIT);
  spec->set_order_qty(qty);
  if (!price.empty()) spec->set_price(price);
  v1::SubmitOrderResponse response;
  if (!Check(orders->SubmitOrder(&ctx, request, &response), "submit")) return false;
  std::cout << "placed " << id << " " << v1::OrdStatus_Name(response.order().ord_status())
            << std::endl;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: " << argv[0] << " HOST:PORT TOKEN [SYMBOL] [RESTING_PRICE] [QTY]\n";
    return 2;
  }
  const std::string target = argv[1], token = argv[2];
  const std::string symbol = argc > 3 ? argv[3] : "BTC/USD";
  const std::string resting_price = argc > 4 ? argv[4] : "1000";
  const std::string qty = argc > 5 ? argv[5] : "0.01";
  const std::string tag = std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());

  auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  auto sessions = v1::SessionService::NewStub(channel);
  auto orders = v1::OrderService::NewStub(channel);
  auto executions = v1::ExecutionService::NewStub(channel);

  grpc::ClientContext logon_ctx;
  Prepare(logon_ctx, token);
  v1::LogonRequest logon;
  logon.set_client_name("krakengw-cpp-example");
  v1::LogonResponse session;
  if (!Check(sessions->Logon(&logon_ctx, logon, &session), "logon")) return 1;
  logon_id = session.logon_id();
  std::cout << "logon " << session.session_id() << " account=" << session.account()
            << " last_sequence=" << session.last_sequence() << std::endl;

  Reports seen;
  grpc::ClientContext stream_ctx;
  Authorize(stream_ctx, token);
  std::thread reader(ReadStream, executions.get(), session.last_sequence(), &stream_ctx, &seen);

  bool ok = true;
  const std::string resting_id = "cpp-rest-" + tag, market_id = "cpp-mkt-" + tag;
  ok = ok && Submit(orders.get(), token, resting_id, symbol, qty, resting_price);
  if (ok) {
    grpc::ClientContext ctx;
    Prepare(ctx, token);
    v1::CancelOrderRequest request;
    request.set_client_order_id(resting_id);
    v1::CancelOrderResponse response;
    ok = Check(orders->CancelOrder(&ctx, request, &response), "cancel");
    if (ok) {
      std::cout << "canceled " << resting_id << " "
                << v1::OrdStatus_Name(response.order().ord_status()) << std::endl;
    }
  }
  ok = ok && Submit(orders.get(), token, market_id, symbol, qty, "");
  {
    // An unknown order: the failure carries the gateway's ErrorInfo reason.
    grpc::ClientContext ctx;
    Prepare(ctx, token);
    v1::GetOrderRequest request;
    request.set_client_order_id("cpp-no-such-order");
    v1::GetOrderResponse response;
    Check(orders->GetOrder(&ctx, request, &response), "get");
  }
  if (ok) {
    std::unique_lock<std::mutex> lock(seen.mu);
    ok = seen.changed.wait_for(lock, kWaitTimeout, [&] {
      return seen.ended || (seen.filled_id == market_id && seen.canceled_id == resting_id);
    }) && !seen.ended;
    if (!ok) std::cout << "error stream: no fill and cancel report in time" << std::endl;
  }
  stream_ctx.TryCancel();
  reader.join();

  grpc::ClientContext logout_ctx;
  Prepare(logout_ctx, token);
  v1::LogoutResponse logout;
  if (Check(sessions->Logout(&logout_ctx, v1::LogoutRequest(), &logout), "logout")) {
    std::cout << "logout canceled=" << logout.canceled_count() << std::endl;
  } else {
    ok = false;
  }
  return ok ? 0 : 1;
}
