using Microsoft.Extensions.Options;


namespace IntelSharing.Api.Features.Deliveries.Dispatch;

/// <summary>Refuses to start with a delivery configuration that cannot work, saying which setting is wrong.</summary>
public sealed class DeliveryOptionsValidator : IValidateOptions<DeliveryOptions>
{
    public ValidateOptionsResult Validate(string? name, DeliveryOptions options)
    {
        var errors = new List<string>();
        if (options.Workers is < 1 or > 1024)
        {
            errors.Add("Delivery__Workers must be between 1 and 1024.");
        }

        if (options.BatchSize is < 1 or > 1000)
        {
            errors.Add("Delivery__BatchSize must be between 1 and 1000.");
        }

        if (options.PerPartnerConcurrency < 1)
        {
            errors.Add("Delivery__PerPartnerConcurrency must be at least 1.");
        }

        if (options.PerAgencyConcurrency is { } share && (share < 1 || share > options.Workers))
        {
            errors.Add("Delivery__PerAgencyConcurrency must be between 1 and Delivery__Workers, or unset (a quarter of the workers).");
        }

        if (options.MaxSubscriptionsPerAgency is < 1 or > 10000)
        {
            errors.Add("Delivery__MaxSubscriptionsPerAgency must be between 1 and 10000.");
        }

        if (options.BreakerFailures < 2)
        {
            errors.Add("Delivery__BreakerFailures must be at least 2 (Polly's minimum throughput).");
        }

        if (options.AttemptTimeout <= TimeSpan.Zero || options.Lease <= options.AttemptTimeout)
        {
            errors.Add("Delivery__AttemptTimeout must be positive and shorter than Delivery__Lease, or a slow attempt would be taken over while it runs.");
        }

        try
        {
            if (options.ParsedSchedule() is not { Count: > 0 } schedule || schedule.Any(d => d < TimeSpan.Zero))
            {
                errors.Add("Delivery__Schedule must list at least one non-negative delay.");
            }
        }
        catch (FormatException)
        {
            errors.Add("Delivery__Schedule must be comma-separated TimeSpans, e.g. '00:00:00,00:00:05,00:05:00'.");
        }

        foreach (var network in options.AllowedPrivateNetworks)
        {
            if (!System.Net.IPNetwork.TryParse(network, out _))
            {
                errors.Add($"Delivery__AllowedPrivateNetworks contains '{network}', which is not a CIDR range such as 127.0.0.0/8.");
            }
        }

        if (!string.IsNullOrWhiteSpace(options.Proxy)
            && (!Uri.TryCreate(options.Proxy, UriKind.Absolute, out var proxy) || proxy.Scheme is not ("http" or "https")
                || !string.IsNullOrEmpty(proxy.UserInfo) || proxy.AbsolutePath != "/" || !string.IsNullOrEmpty(proxy.Query)))
        {
            errors.Add("Delivery__Proxy must be an http:// or https:// URL of a proxy with host and port only, e.g. http://egress.internal:3128 (no credentials, no path).");
        }

        if (options.ShutdownGraceSeconds is < 0 or > 300)
        {
            errors.Add("Delivery__ShutdownGraceSeconds must be between 0 and 300 (keep it below the orchestrator's termination grace period).");
        }

        if (options.Jitter is < 0 or > 0.5)
        {
            errors.Add("Delivery__Jitter must be between 0 and 0.5.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
