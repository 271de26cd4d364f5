// Names of message types, for log lines.
#include <sabakan/protocol/tags.hpp>

namespace sabakan::protocol {

std::string_view to_string(frontend_tag t) noexcept {
    switch (t) {
        case frontend_tag::bind:
            return "Bind";
        case frontend_tag::close:
            return "Close";
        case frontend_tag::copy_data:
            return "CopyData";
        case frontend_tag::copy_done:
            return "CopyDone";
        case frontend_tag::copy_fail:
            return "CopyFail";
        case frontend_tag::describe:
            return "Describe";
        case frontend_tag::execute:
            return "Execute";
        case frontend_tag::flush:
            return "Flush";
        case frontend_tag::function_call:
            return "FunctionCall";
        case frontend_tag::parse:
            return "Parse";
        case frontend_tag::password:
            return "PasswordMessage";
        case frontend_tag::query:
            return "Query";
        case frontend_tag::sync:
            return "Sync";
        case frontend_tag::terminate:
            return "Terminate";
    }
    return "unknown";
}

std::string_view to_string(backend_tag t) noexcept {
    switch (t) {
        case backend_tag::authentication:
            return "Authentication";
        case backend_tag::backend_key_data:
            return "BackendKeyData";
        case backend_tag::bind_complete:
            return "BindComplete";
        case backend_tag::close_complete:
            return "CloseComplete";
        case backend_tag::command_complete:
            return "CommandComplete";
        case backend_tag::copy_data:
            return "CopyData";
        case backend_tag::copy_done:
            return "CopyDone";
        case backend_tag::copy_in_response:
            return "CopyInResponse";
        case backend_tag::copy_out_response:
            return "CopyOutResponse";
        case backend_tag::copy_both_response:
            return "CopyBothResponse";
        case backend_tag::data_row:
            return "DataRow";
        case backend_tag::empty_query_response:
            return "EmptyQueryResponse";
        case backend_tag::error_response:
            return "ErrorResponse";
        case backend_tag::function_call_response:
            return "FunctionCallResponse";
        case backend_tag::negotiate_protocol_version:
            return "NegotiateProtocolVersion";
        case backend_tag::no_data:
            return "NoData";
        case backend_tag::notice_response:
            return "NoticeResponse";
        case backend_tag::notification_response:
            return "NotificationResponse";
        case backend_tag::parameter_description:
            return "ParameterDescription";
        case backend_tag::parameter_status:
            return "ParameterStatus";
        case backend_tag::parse_complete:
            return "ParseComplete";
        case backend_tag::portal_suspended:
            return "PortalSuspended";
        case backend_tag::ready_for_query:
            return "ReadyForQuery";
        case backend_tag::row_description:
            return "RowDescription";
    }
    return "unknown";
}

}  // namespace sabakan::protocol
