namespace FaceNetGen;

/// <summary>
/// An error in the user's input or environment (a missing file, a corrupt image, a checkpoint of another spec),
/// with a message that names the file, line or size involved. The CLI prints the message and exits with 1.
/// </summary>
public class FaceNetException : Exception
{
    public FaceNetException(string message)
        : base(message)
    {
    }

    public FaceNetException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
