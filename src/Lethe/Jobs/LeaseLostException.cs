namespace Lethe.Jobs;

/// This worker no longer holds the job's lease (it expired and another worker took the job, or the
/// job ended): whatever it was about to record must not be recorded.
public sealed class LeaseLostException : Exception
{
    public LeaseLostException()
        : base("This worker no longer holds the job's lease.")
    {
    }

    public LeaseLostException(string message)
        : base(message)
    {
    }

    public LeaseLostException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
