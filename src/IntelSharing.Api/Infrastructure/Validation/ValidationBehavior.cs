using FluentValidation;
using FluentValidation.Results;
using Mediator;

namespace IntelSharing.Api.Infrastructure.Validation;

/// <summary>
/// The one place requests are validated: every FluentValidation validator registered for the message runs
/// before its handler; failures surface as 400 problem responses through <c>ProblemExceptionHandler</c>.
/// At most <see cref="ValidationErrors.MaxReported"/> failures are reported (the first ones, in the order the validators state their
/// rules), so neither the answer nor the audit record grows with the size of a bad request.
/// </summary>
public sealed class ValidationBehavior<TMessage, TResponse>(IEnumerable<IValidator<TMessage>> validators)
    : IPipelineBehavior<TMessage, TResponse>
    where TMessage : IMessage
{
    public async ValueTask<TResponse> Handle(TMessage message, MessageHandlerDelegate<TMessage, TResponse> next, CancellationToken cancellationToken)
    {
        List<ValidationFailure>? failures = null;
        foreach (var validator in validators)
        {
            var result = await validator.ValidateAsync(message, cancellationToken);
            if (!result.IsValid)
            {
                (failures ??= []).AddRange(result.Errors);
            }
        }

        if (failures is not null)
        {
            throw failures.Count > ValidationErrors.MaxReported
                ? new TruncatedValidationException(failures.Take(ValidationErrors.MaxReported))
                : new ValidationException(failures);
        }

        return await next(message, cancellationToken);
    }
}

/// <summary>How many validation errors one answer reports.</summary>
public static class ValidationErrors
{
    public const int MaxReported = 50;
}

/// <summary>A validation failure with more errors than are reported: it carries the first <see cref="ValidationErrors.MaxReported"/>.</summary>
public sealed class TruncatedValidationException(IEnumerable<ValidationFailure> reported) : ValidationException(reported);
