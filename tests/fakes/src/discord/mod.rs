pub struct FakeDiscord;
