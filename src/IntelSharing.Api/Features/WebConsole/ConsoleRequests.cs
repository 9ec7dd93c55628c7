using FluentValidation;
using IntelSharing.Api.Infrastructure.Audit;
using IntelSharing.Api.Infrastructure.Problems;
using IntelSharing.Api.Infrastructure.Security;
using Mediator;

namespace IntelSharing.Api.Features.WebConsole;

/// <summary>
/// How a console page asks for anything: it sends the API's own Mediator message, so the same handler, validator,
/// scope check and sharing policy decide, and records it under the API endpoint's audit action exactly as
/// <see cref="AuditedEndpointFilter"/> does. Each message gets a DI scope of its own, like an API request: a page that
/// sends four queries leaves four audit records, and one handler's record does not stand in for another's.
/// </summary>
public sealed class ConsoleRequests(IServiceScopeFactory scopes, IHttpContextAccessor accessor)
{
    /// <summary>Who is signed in, from the claims <see cref="ConsoleSession"/> refreshed from the key's row on this request.</summary>
    public Caller Caller => Caller.From(accessor.HttpContext!.User);

    public Task<Result<T>> AskAsync<T>(IQuery<Result<T>> query, Audited audited, CancellationToken cancellationToken) =>
        SendAsync((mediator, ct) => mediator.Send(query, ct), audited, cancellationToken);

    public Task<Result<T>> DoAsync<T>(ICommand<Result<T>> command, Audited audited, CancellationToken cancellationToken) =>
        SendAsync((mediator, ct) => mediator.Send(command, ct), audited, cancellationToken);

    /// <summary>For the handlers that answer a plain value (lists with nothing to refuse).</summary>
    public async Task<T> ListAsync<T>(IQuery<T> query, Audited audited, CancellationToken cancellationToken)
    {
        var result = await SendAsync<T>(async (mediator, ct) => await mediator.Send(query, ct), audited, cancellationToken);
        return result.Value!;
    }

    /// <summary>For the handlers that answer a plain value to a query a form filled in, so that validation can refuse it.</summary>
    public Task<Result<T>> AskPlainAsync<T>(IQuery<T> query, Audited audited, CancellationToken cancellationToken) =>
        SendAsync<T>(async (mediator, ct) => await mediator.Send(query, ct), audited, cancellationToken);

    private async Task<Result<T>> SendAsync<T>(Func<IMediator, CancellationToken, ValueTask<Result<T>>> send, Audited audited, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var audit = scope.ServiceProvider.GetRequiredService<AuditTrail>();
        Result<T> result;
        try
        {
            result = await send(scope.ServiceProvider.GetRequiredService<IMediator>(), cancellationToken);
        }
        catch (ValidationException validation)
        {
            var fields = validation.Errors.Select(e => FieldNames.ToJsonPath(e.PropertyName)).Distinct().ToList();
            await audit.RecordAsync(audited.Event(StatusCodes.Status400BadRequest, null, new { problem = ProblemTypes.Validation, fields }));
            return new Failure(StatusCodes.Status400BadRequest, ProblemTypes.Validation, "The request is invalid",
                string.Join(" ", validation.Errors.Select(e => e.ErrorMessage).Distinct()));
        }

        if (!audit.HasRecorded)
        {
            var detail = audit.AnnotatedDetail ?? (result.Failure is { } failure ? new { problem = failure.Type } : null);
            await audit.RecordAsync(audited.Event(result.Failure?.Status ?? StatusCodes.Status200OK, audit.AnnotatedResourceId, detail));
        }

        return result;
    }
}

/// <summary>The audit action and resource an API endpoint records, for the console page that does the same thing.</summary>
/// <param name="Action">The endpoint's audit action.</param>
/// <param name="ResourceType">The endpoint's resource type.</param>
/// <param name="ResourceId">The resource the page is about, when the handler does not name it.</param>
/// <param name="Purpose">The purpose the user stated in the page's form: the API takes it from X-Purpose.</param>
public sealed record Audited(string Action, string ResourceType, Guid? ResourceId = null, string? Purpose = null)
{
    public AuditEvent Event(int outcome, Guid? annotatedId, object? detail) => new(Action, outcome)
    {
        ResourceType = ResourceType,
        ResourceId = annotatedId ?? ResourceId,
        Detail = detail,
        Purpose = Purpose,
    };
}
