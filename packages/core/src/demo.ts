console.log('edakit demo placeholder');
