throw new Error('the database URL is missing')
