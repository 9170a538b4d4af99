throw new Error('DATABASE_URL is not set (thrown by the app at import)')
